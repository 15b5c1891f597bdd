"""Every fuzz target by name; each module builds its `Target` without starting anything."""

from __future__ import annotations

from collections.abc import Callable

from fuzz.campaign import Target
from fuzz.targets import grpc_services, mime, routing_policy, webhooks

FACTORIES: dict[str, Callable[[], Target]] = {
    "mime": mime.target,
    **{f"webhook_{platform}": factory for platform, factory in webhooks.FACTORIES.items()},
    "routing_policy": routing_policy.target,
    "grpc_skills_admin": grpc_services.skills_admin_target,
    "grpc_agent_desk": grpc_services.agent_desk_target,
    "grpc_routing_admin": grpc_services.routing_admin_target,
}
