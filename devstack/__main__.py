"""`python -m devstack run|demo`: the local platform on the embedded broker."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

from devstack.stack import REPO_ROOT, Stack, StackPorts

# Tests point DEVSTACK_VAR_DIR elsewhere so they never touch (or attach to) a developer's running stack.
VAR_DIR = Path(os.environ.get("DEVSTACK_VAR_DIR", REPO_ROOT / "var"))
STATE_FILE = VAR_DIR / "stack.json"


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def build_stack(ports: StackPorts) -> Stack:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    return Stack(VAR_DIR, ports, kafka_bootstrap=external, progress=progress)


def banner(stack: Stack) -> str:
    p = stack.ports
    return f"""
Contact routing platform is ready.

  broker (Kafka API)      {stack.kafka_bootstrap}{"  (embedded tansu)" if stack.broker else ""}
  skills gRPC             127.0.0.1:{p.skills_grpc}     skillsctl agents list
  router gRPC             127.0.0.1:{p.router_grpc}     agent-client --agent ana   (AgentDesk, RoutingAdmin)
  email gateway SMTP      127.0.0.1:{p.smtp}      mail to support@ / billing@ / vip@example.com
  email gateway health    http://127.0.0.1:{p.email_health}/readyz
  social gateway webhooks http://127.0.0.1:{p.webhook}/webhooks/{{meta,telegram/demo-bot,x}}
  outbound mail sink      127.0.0.1:{p.mail_sink}      replies and surveys land in {stack.var_dir / "outbox"}
  platforms stand-in      http://127.0.0.1:{p.platform_sink}  social replies and surveys: outbox/platforms.jsonl
  survey rating links     http://127.0.0.1:{p.webhook}/feedback/...   report --group-by queue
  Prometheus metrics      http://127.0.0.1:{p.router_metrics}/metrics (router), {p.skills_metrics} (skills), \
{p.email_gateway_metrics} (email), {p.social_gateway_metrics} (social)
  logs and traces         {stack.var_dir / "logs"}   {stack.var_dir / "traces"}

Try it:
  .venv/bin/python -c "import smtplib; smtplib.SMTP('127.0.0.1', {p.smtp}).sendmail('kupac@example.net', \\
      ['support@example.com'], 'From: kupac@example.net\\nSubject: Racun\\n\\nDobar dan, imam problem s racunom.')"
  curl -sf -X POST http://127.0.0.1:{p.webhook}/webhooks/telegram/demo-bot \\
      -H 'X-Telegram-Bot-Api-Secret-Token: demo-telegram-secret' -H 'content-type: application/json' \\
      -d '{{"update_id":1,"message":{{"message_id":'"$RANDOM"',"date":'"$(date +%s)"','\\
'"chat":{{"id":42,"type":"private"}},"from":{{"id":42,"is_bot":false,"first_name":"Ana","language_code":"hr"}},'\\
'"text":"Pozdrav, ne radi mi prijava."}}}}'
  make demo        scripted agents, mails and webhooks, with every routing decision printed

Press Ctrl-C to stop everything.
"""


def run() -> int:
    ports = StackPorts.defaults()
    wanted = [ports.skills_grpc, ports.router_grpc, ports.smtp, ports.email_health, ports.webhook, ports.mail_sink]
    wanted.append(ports.platform_sink)
    wanted += [ports.metrics(name) for name in ("router", "skills", "email_gateway", "social_gateway")]
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        wanted.append(ports.broker)
    busy = [port for port in wanted if _port_in_use(port)]
    if busy:
        print(f"ports already in use: {busy}. Is the stack already running? (override with *_PORT env vars)")
        return 1
    from contactrouting.lifecycle import install_stop_signal

    stop = install_stop_signal()
    stack = build_stack(ports)
    try:
        stack.start()
        STATE_FILE.write_text(json.dumps({"ports": ports.__dict__, "kafka_bootstrap": stack.kafka_bootstrap}))
        print(banner(stack), flush=True)
        progress("ready")
        while not stop.wait(1.0):
            dead = [name for name, service in stack.services.items() if not service.running]
            if dead:
                for name in dead:
                    progress(f"{name} exited unexpectedly; last log lines:\n{stack.services[name].log_tail()}")
                return 1
        return 0
    finally:
        progress("stopping")
        codes = stack.stop()
        STATE_FILE.unlink(missing_ok=True)
        progress("stopped: " + ", ".join(f"{name}={code}" for name, code in codes.items()))


def demo() -> int:
    from devstack.demo import run_demo

    return run_demo(build_stack, STATE_FILE, progress)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("command", choices=["run", "demo"])
    command = parser.parse_args().command
    sys.exit(run() if command == "run" else demo())


if __name__ == "__main__":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    main()
