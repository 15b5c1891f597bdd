"""RoutingAdmin: read-only queue statistics, contact explanations and service reports for operators and
dashboards."""

from __future__ import annotations

import asyncio
import hmac
import math

import grpc

from contactrouting.v1 import agent_desk_pb2, agent_desk_pb2_grpc
from services.router.adapters.contact_mapping import seconds
from services.router.adapters.switchboard import Switchboard
from services.router.domain import QueueStatsView
from services.router.domain.service_report import ALL, GROUPINGS, Period, ServiceRow

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


def service_report_row(row: ServiceRow) -> agent_desk_pb2.ServiceReportRow:
    return agent_desk_pb2.ServiceReportRow(
        key=row.key,
        completed=row.completed,
        csat_responses=row.csat_responses,
        csat_percent=row.csat_percent,
        nps_responses=row.nps_responses,
        nps=row.nps,
        first_responses=row.first_responses,
        first_response_avg_s=row.first_response_avg_s,
        first_response_p90_s=row.first_response_p90_s,
        resolution_avg_s=row.resolution_avg_s,
        resolution_p90_s=row.resolution_p90_s,
        reopened=row.reopened,
        reopen_rate_percent=row.reopen_rate_percent,
    )


def bearer_token_matches(context: grpc.ServicerContext, expected: str) -> bool:
    presented = dict(context.invocation_metadata()).get("authorization", "")
    return hmac.compare_digest(presented.encode(), f"Bearer {expected}".encode())


class RoutingAdminServicer(agent_desk_pb2_grpc.RoutingAdminServicer):
    """Coroutines on the desk server's loop; the work (under the switchboard's lock, or a report over the whole
    history window) runs on a worker thread, so agent streams never wait for an operator's query."""

    def __init__(self, switchboard: Switchboard, admin_token: str = "") -> None:
        self._switchboard = switchboard
        self._admin_token = admin_token

    async def _authorize(self, context: grpc.aio.ServicerContext) -> None:
        if self._admin_token and not bearer_token_matches(context, self._admin_token):
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED, "RoutingAdmin needs 'authorization: Bearer <admin token>'"
            )

    async def GetQueueStats(  # type: ignore[override]
        self, request: agent_desk_pb2.GetQueueStatsRequest, context: grpc.aio.ServicerContext
    ) -> agent_desk_pb2.GetQueueStatsResponse:
        await self._authorize(context)
        stats = await asyncio.to_thread(self._switchboard.queue_stats)
        views = [v for v in stats if not request.queue or v.queue == request.queue]
        if request.queue and not views:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no queue named {request.queue!r}")
        return agent_desk_pb2.GetQueueStatsResponse(queues=[queue_stats(view) for view in views])

    async def ExplainContact(  # type: ignore[override]
        self, request: agent_desk_pb2.ExplainContactRequest, context: grpc.aio.ServicerContext
    ) -> agent_desk_pb2.ExplainContactResponse:
        await self._authorize(context)
        if not request.contact_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "contact_id is required")
        record, position = await asyncio.to_thread(self._switchboard.explain, request.contact_id)
        response = agent_desk_pb2.ExplainContactResponse(contact_id=request.contact_id, state="unknown")
        if record is not None:
            response.state = record.state
            response.history.extend(record.history)
        if position is not None:
            response.queue_position = position[0]
            response.estimated_wait_ms = int(position[1] * 1000)
        return response

    async def GetServiceReport(  # type: ignore[override]
        self, request: agent_desk_pb2.GetServiceReportRequest, context: grpc.aio.ServicerContext
    ) -> agent_desk_pb2.GetServiceReportResponse:
        """Figures of the contacts completed in [since, until), from the window of history the router keeps."""
        await self._authorize(context)
        group_by = request.group_by or ALL
        if group_by not in GROUPINGS:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"group_by must be one of {', '.join(GROUPINGS)}")
        period = Period(
            seconds(request.since) if request.HasField("since") else -math.inf,
            seconds(request.until) if request.HasField("until") else math.inf,
        )
        if period.since >= period.until:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "since must be before until")
        rows = await asyncio.to_thread(self._switchboard.service.report, period, group_by)
        response = agent_desk_pb2.GetServiceReportResponse(
            group_by=group_by, rows=[service_report_row(row) for row in rows]
        )
        if request.HasField("since"):
            response.since.CopyFrom(request.since)
        if request.HasField("until"):
            response.until.CopyFrom(request.until)
        return response
