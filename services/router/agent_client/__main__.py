"""`python -m services.router.agent_client` (console script `agent-client`): an agent's desk in a terminal.

agent-client --agent ana                      interactive: offers shown as they come, keys to act on them
agent-client --agent ana --auto --think-time 2   scripted: accept at once, reply and complete after 2 s
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from contactrouting.config import ServiceSettings, load_settings
from contactrouting.grpc_runtime import traced_channel
from contactrouting.lifecycle import install_stop_signal
from contactrouting.tracing import setup_tracing
from contactrouting.v1 import agent_desk_pb2
from services.router.agent_client.auto_agent import AutoAgent
from services.router.agent_client.console import HELP, Console
from services.router.agent_client.desk_link import DeskLink
from services.router.agent_client.desk_trace import send_in_trace

MessageHandler = Callable[[agent_desk_pb2.DeskMessage], None]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="agent-client", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agent", required=True, help="agent id, as in the agent's profile")
    parser.add_argument(
        "--target",
        default=os.environ.get("ROUTER_TARGET", f"127.0.0.1:{os.environ.get('ROUTER_GRPC_PORT', '50051')}"),
        help="router AgentDesk address host:port (env ROUTER_TARGET; default 127.0.0.1:$ROUTER_GRPC_PORT or 50051)",
    )
    parser.add_argument("--token", default=os.environ.get("AGENT_TOKEN", ""), help="agent token (env AGENT_TOKEN)")
    parser.add_argument(
        "--ca-file",
        type=Path,
        default=Path(os.environ["AGENT_CLIENT_CA_FILE"]) if os.environ.get("AGENT_CLIENT_CA_FILE") else None,
        help="CA certificate: connect over TLS (env AGENT_CLIENT_CA_FILE)",
    )
    parser.add_argument("--cert-file", type=Path, help="client certificate, when the router requires mTLS")
    parser.add_argument("--key-file", type=Path, help="the client certificate's private key")
    parser.add_argument(
        "--auto", action="store_true", help="scripted agent: accept every offer, then reply and complete"
    )
    parser.add_argument("--think-time", type=float, default=2.0, help="--auto: seconds spent on a contact (default 2)")
    parser.add_argument(
        "--reply",
        default="Thank you for contacting us. This is resolved now.",
        help="--auto: reply sent before completing; empty sends none",
    )
    return parser.parse_args(argv)


def open_link(args: argparse.Namespace, on_message: MessageHandler, on_status: Callable[[str], None]) -> DeskLink:
    channel = traced_channel(args.target, args.ca_file, args.cert_file, args.key_file)
    return DeskLink(channel, args.agent, on_message, on_status, token=args.token)


def say(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


def run_auto(args: argparse.Namespace, stop: threading.Event) -> int:
    link: DeskLink
    send = send_in_trace(lambda message: link.send(message), args.agent)
    agent = AutoAgent(send, args.think_time, args.reply, say)
    link = open_link(args, agent.handle, say)
    try:
        link.run(stop)
    finally:
        link.close()
    return 0


def run_interactive(args: argparse.Namespace, stop: threading.Event) -> int:
    link: DeskLink
    console = Console(send_in_trace(lambda message: link.send(message), args.agent), sys.stdout)
    link = open_link(args, console.handle, console.status)
    console.status(f"connecting to {args.target} as {args.agent}")
    print(HELP, flush=True)
    # Keys are read on a thread of their own, so Ctrl-C and SIGTERM (the stop event) end the client at once.
    threading.Thread(target=read_keys, args=(console, stop), name="keys", daemon=True).start()
    try:
        link.run(stop)
    finally:
        link.close()
    return 0


def read_keys(console: Console, stop: threading.Event) -> None:
    for line in sys.stdin:
        if not console.command(line):
            break
    stop.set()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = install_stop_signal()
    # The agent's answers are spans of the contacts' traces: OTLP when configured, else $TRACE_DIR/agent_client.jsonl.
    tracer_provider = setup_tracing("agent_client", load_settings(ServiceSettings))
    try:
        return run_auto(args, stop) if args.auto else run_interactive(args, stop)
    finally:
        tracer_provider.shutdown()


if __name__ == "__main__":
    sys.exit(main())
