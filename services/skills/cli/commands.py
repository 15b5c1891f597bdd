"""skillsctl: the operator's command line for agents, skills and queues, in the style of kubectl."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import grpc

from contactrouting.agent_tokens import issue_token
from contactrouting.v1 import skills_pb2
from services.skills.cli.apply import ApplyReport, apply_document
from services.skills.cli.client import SkillsClient
from services.skills.cli.documents import Document, DocumentError, parse_csv, parse_yaml
from services.skills.cli.output import FORMATS, render_agents, render_catalog

DEFAULT_TARGET = "127.0.0.1:50052"
DEFAULT_TOKEN = "demo-admin-token"

EXIT_OK = 0
EXIT_FAILED = 1  # the service refused some or all of the request
EXIT_USAGE = 2  # bad arguments or an unreadable file: nothing was sent
EXIT_UNAVAILABLE = 3  # the service could not be reached, or did not accept the token

EPILOG = """\
environment:
  SKILLSCTL_TARGET     host:port of the skills service (default 127.0.0.1:50052)
  SKILLS_ADMIN_TOKEN   bearer token (default demo-admin-token)
  SKILLSCTL_CA_FILE    CA that signed the service's certificate: connect over TLS
  SKILLSCTL_CERT_FILE, SKILLSCTL_KEY_FILE   client certificate and key, when the service requires mTLS
  AGENT_TOKEN_SECRET   secret for `agents token`

exit codes: 0 ok, 1 the service refused something, 2 usage or file error, 3 service unreachable or token refused

examples:
  skillsctl agents apply -f config/demo_agents.yaml
  skillsctl agents list --skill billing --min-proficiency 3 --language hr
  skillsctl agents list -o csv > agents.csv && skillsctl agents apply -f agents.csv
  skillsctl agents token ana.horvat --ttl 8h
"""

KINDS = ("agents", "skills", "queues")


class UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skillsctl",
        description="Manage agents, the skills catalog and queues of the contact-routing skills service.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--target", default=os.environ.get("SKILLSCTL_TARGET", DEFAULT_TARGET))
    parser.add_argument("--token", default=os.environ.get("SKILLS_ADMIN_TOKEN", DEFAULT_TOKEN))
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per call (default 30)")
    parser.add_argument("--ca-file", type=Path, default=_env_path("SKILLSCTL_CA_FILE"), help="CA to trust: use TLS")
    parser.add_argument("--cert-file", type=Path, default=_env_path("SKILLSCTL_CERT_FILE"), help="client cert (mTLS)")
    parser.add_argument("--key-file", type=Path, default=_env_path("SKILLSCTL_KEY_FILE"), help="client key (mTLS)")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="{agents,skills,queues}")
    for kind in KINDS:
        verbs = kinds.add_parser(kind, help=f"manage {kind}").add_subparsers(dest="verb", required=True)
        listing = verbs.add_parser("list", help=f"list {kind}")
        _output_option(listing)
        listing.add_argument("--limit", type=int, default=None, help="stop after this many")
        if kind == "agents":
            listing.add_argument("--skill", default="")
            listing.add_argument("--min-proficiency", type=int, default=0, help="with --skill: level 1..5")
            listing.add_argument("--language", default="", help="BCP-47 tag, e.g. hr")
            listing.add_argument("--queue", default="")
            listing.add_argument("--active-only", action="store_true")
        getting = verbs.add_parser("get", help=f"show {kind} by name")
        getting.add_argument("names", nargs="+", metavar="ID" if kind == "agents" else "NAME")
        _output_option(getting)
        applying = verbs.add_parser("apply", help="create or update what a YAML or CSV file declares")
        applying.add_argument("-f", "--filename", required=True, help="YAML or CSV file, '-' for stdin")
        applying.add_argument("--format", choices=("yaml", "csv"), help="default: from the file extension")
        deleting = verbs.add_parser("delete", help=f"delete {kind}")
        deleting.add_argument("names", nargs="*", metavar="ID" if kind == "agents" else "NAME")
        deleting.add_argument("-f", "--filename", help=f"delete the {kind} a YAML or CSV file declares")
        deleting.add_argument("--ignore-not-found", action="store_true")
        if kind == "agents":
            deleting.add_argument("--expected-version", type=int, default=0, help="fail unless at this version")
            token = verbs.add_parser("token", help="issue a signed, expiring login token for an agent")
            token.add_argument("agent_id")
            token.add_argument("--ttl", default="12h", help="lifetime: 30m, 12h, 7d or seconds (default 12h)")
            verbs.add_parser("republish", help="publish every agent to agents.profiles again")
    return parser


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "")
    return Path(value) if value else None


def _output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", choices=FORMATS, default="table")


def run(argv: list[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = build_parser().parse_args(argv)
    try:
        client = _client(args)
    except (UsageError, OSError) as error:
        print(f"error: {error}", file=err)
        return EXIT_USAGE
    try:
        return _dispatch(client, args, out, err)
    except UsageError as error:
        print(f"error: {error}", file=err)
        return EXIT_USAGE
    except DocumentError as error:
        print(f"error: {args.filename}: {error}", file=err)
        return EXIT_USAGE
    except grpc.RpcError as error:
        code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
        print(f"error: {code.name}: {error.details()}", file=err)  # type: ignore[attr-defined]
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.DEADLINE_EXCEEDED):
            if code is grpc.StatusCode.UNAVAILABLE:
                print(f"hint: is the skills service running at {args.target}? (--target / SKILLSCTL_TARGET)", file=err)
            return EXIT_UNAVAILABLE
        return EXIT_FAILED
    finally:
        client.close()


def _client(args: argparse.Namespace) -> SkillsClient:
    if (args.cert_file is None) != (args.key_file is None):
        raise UsageError("--cert-file and --key-file go together")
    if args.cert_file is not None and args.ca_file is None:
        raise UsageError("--cert-file (mTLS) needs --ca-file")
    return SkillsClient(args.target, args.token, args.timeout, args.ca_file, args.cert_file, args.key_file)


def _dispatch(client: SkillsClient, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    kind, verb = args.kind, args.verb
    if verb == "list":
        return _list(client, args, out)
    if verb == "get":
        return _get(client, kind, args.names, args.output, out, err)
    if verb == "apply":
        report = apply_document(client, _read_document(args.filename, args.format, kind))
        return _print_report(report, out, err)
    if verb == "delete":
        return _delete(client, args, out, err)
    if verb == "token":
        return _token(client, args.agent_id, args.ttl, out)
    if verb == "republish":
        published = client.call("Republish", skills_pb2.RepublishRequest()).published
        print(f"{published} agents queued for publishing to agents.profiles", file=out)
        return EXIT_OK
    raise UsageError(f"unknown command {kind} {verb}")


def _list(client: SkillsClient, args: argparse.Namespace, out: TextIO) -> int:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if args.kind == "agents":
        filters: dict[str, Any] = {
            "skill": args.skill,
            "min_proficiency": args.min_proficiency,
            "language": args.language,
            "queue": args.queue,
            "active_only": args.active_only,
        }
        out.write(render_agents(list(client.agents(limit=args.limit, **filters)), args.output))
    else:
        entries = client.skills(args.limit) if args.kind == "skills" else client.queues(args.limit)
        out.write(render_catalog(args.kind, list(entries), args.output))
    return EXIT_OK


def _get(client: SkillsClient, kind: str, names: list[str], fmt: str, out: TextIO, err: TextIO) -> int:
    found: list[Any] = []
    status = EXIT_OK
    for name in names:
        try:
            found.append(_get_one(client, kind, name))
        except grpc.RpcError as error:
            if error.code() is not grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
                raise
            print(f"error: {error.details()}", file=err)  # type: ignore[attr-defined]
            status = EXIT_FAILED
    if found:
        out.write(render_agents(found, fmt) if kind == "agents" else render_catalog(kind, found, fmt))
    return status


def _get_one(client: SkillsClient, kind: str, name: str) -> Any:
    if kind == "agents":
        return client.call("GetAgent", skills_pb2.GetAgentRequest(agent_id=name))
    if kind == "skills":
        return client.call("GetSkill", skills_pb2.GetSkillRequest(name=name))
    return client.call("GetQueue", skills_pb2.GetQueueRequest(name=name))


def _delete(client: SkillsClient, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    names = list(args.names)
    if args.filename:
        document = _read_document(args.filename, None, args.kind)
        names += (
            [a.id for a in document.agents] if args.kind == "agents" else [e.name for e in getattr(document, args.kind)]
        )
    if not names:
        raise UsageError(f"name the {args.kind} to delete, or give -f FILE")
    singular = args.kind[:-1]
    status = EXIT_OK
    for name in names:
        try:
            if args.kind == "agents":
                request = skills_pb2.DeleteAgentRequest(agent_id=name, expected_version=args.expected_version)
                client.call("DeleteAgent", request)
            elif args.kind == "skills":
                client.call("DeleteSkill", skills_pb2.DeleteSkillRequest(name=name))
            else:
                client.call("DeleteQueue", skills_pb2.DeleteQueueRequest(name=name))
            print(f"{singular}/{name} deleted", file=out)
        except grpc.RpcError as error:
            code = error.code()  # type: ignore[attr-defined]
            if code is grpc.StatusCode.NOT_FOUND and args.ignore_not_found:
                continue
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED):
                raise
            print(f"error: {singular}/{name}: {code.name}: {error.details()}", file=err)  # type: ignore[attr-defined]
            status = EXIT_FAILED
    return status


def _token(client: SkillsClient, agent_id: str, ttl: str, out: TextIO) -> int:
    secret = os.environ.get("AGENT_TOKEN_SECRET", "")
    if not secret:
        raise UsageError("set AGENT_TOKEN_SECRET to the secret the router verifies agent tokens with")
    ttl_s = parse_duration(ttl)
    # Refuse to sign for an agent the service does not know: a typo would otherwise fail only at login.
    client.call("GetAgent", skills_pb2.GetAgentRequest(agent_id=agent_id))
    try:
        token = issue_token(agent_id, secret, ttl_s, time.time())
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(token, file=out)
    return EXIT_OK


def parse_duration(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    if not number.isdigit() or int(number) <= 0:
        raise UsageError(f"--ttl {text!r} is not a duration such as 30m, 12h, 7d or 3600")
    return int(number) * units[unit]


def _read_document(filename: str, fmt: str | None, kind: str) -> Document:
    if filename == "-":
        text = sys.stdin.read()
    else:
        path = Path(filename)
        try:
            # Bytes, not read_text(): newline translation would rewrite line breaks inside quoted CSV cells.
            text = path.read_bytes().decode("utf-8")
        except OSError as error:
            raise UsageError(f"cannot read {filename}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"{filename} is not UTF-8 text") from None
    chosen = fmt or ("csv" if filename.lower().endswith(".csv") else "yaml")
    return parse_csv(text, kind) if chosen == "csv" else parse_yaml(text, kind)


def _print_report(report: ApplyReport, out: TextIO, err: TextIO) -> int:
    for outcome in report.outcomes:
        if outcome.action == "failed":
            print(f"error: {outcome.kind}/{outcome.name}: {outcome.error}", file=err)
        elif outcome.action != "unchanged":
            print(f"{outcome.kind}/{outcome.name} {outcome.action}", file=out)
    for kind in ("skill", "queue", "agent"):
        counts = report.counts(kind)
        if counts:
            summary = ", ".join(
                f"{counts[a]} {a}" for a in ("created", "configured", "unchanged", "failed") if a in counts
            )
            print(f"{kind}s: {summary}", file=out)
    return EXIT_FAILED if report.failed else EXIT_OK


def main() -> None:
    sys.exit(run(sys.argv[1:]))
