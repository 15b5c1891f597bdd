"""RoutingAdmin: read-only queue statistics and contact explanations for operators and dashboards."""

from __future__ import annotations

import grpc

from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc
from services.router.adapters.switchboard import Switchboard
from services.router.domain import QueueStatsView

SERVICE_NAME = agent_desk_pb2.DESCRIPTOR.services_by_name["RoutingAdmin"].full_name


def queue_stats(view: QueueStatsView) -> agent_desk_pb2.QueueStats:
    return agent_desk_pb2.QueueStats(
        queue=view.queue,
        waiting=view.waiting,
        longest_waiting_ms=int(view.longest_waiting_s * 1000),
        average_time_to_accept_ms=view.average_time_to_accept_s * 1000,
        offers_timed_out=view.offers_timed_out,
        sla_attainment_percent=view.sla_attainment_percent,
        available_agents=[
            agent_desk_pb2.AvailableAgents(key=key, count=count) for key, count in sorted(view.available_agents.items())
        ],
        estimated_wait_ms=int(view.estimated_wait_s * 1000),
    )


class RoutingAdminServicer(agent_desk_pb2_grpc.RoutingAdminServicer):
    def __init__(self, switchboard: Switchboard) -> None:
        self._switchboard = switchboard

    def GetQueueStats(
        self, request: agent_desk_pb2.GetQueueStatsRequest, context: grpc.ServicerContext
    ) -> agent_desk_pb2.GetQueueStatsResponse:
        views = [v for v in self._switchboard.queue_stats() if not request.queue or v.queue == request.queue]
        if request.queue and not views:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no queue named {request.queue!r}")
        return agent_desk_pb2.GetQueueStatsResponse(queues=[queue_stats(view) for view in views])

    def ExplainContact(
        self, request: agent_desk_pb2.ExplainContactRequest, context: grpc.ServicerContext
    ) -> agent_desk_pb2.ExplainContactResponse:
        if not request.contact_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "contact_id is required")
        record, position = self._switchboard.explain(request.contact_id)
        response = agent_desk_pb2.ExplainContactResponse(contact_id=request.contact_id, state="unknown")
        if record is not None:
            response.state = record.state
            response.history.extend(record.history)
        if position is not None:
            response.queue_position = position[0]
            response.estimated_wait_ms = int(position[1] * 1000)
        return response
