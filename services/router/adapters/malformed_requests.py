"""Requests that are not the protobuf message they claim to be are refused with INVALID_ARGUMENT.

The asyncio gRPC server turns a request it cannot decode into UNKNOWN and logs it as an error of the service; the
sync server answered INTERNAL before any service code ran. Neither is the caller's true status: a corrupt request
is the caller's fault. Decoding is done here instead, tolerantly, and a corrupt message ends the call cleanly.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

DETAILS = "malformed request: the message cannot be decoded"
OUR_SERVICES = "/contactrouting."


class MalformedMessage(Exception):
    """A message of a request stream could not be decoded; the call's status is already INVALID_ARGUMENT."""


class _Malformed:
    """What a request that failed to decode becomes, so the handler, not the server's core, refuses it."""


MALFORMED = _Malformed()


class MalformedRequestsRefused(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        # Only our own services, whose handlers are all coroutines; health and reflection run on threads.
        if handler is None or handler.request_deserializer is None or not _ours(handler_call_details):
            return handler
        decode = _tolerant(handler.request_deserializer)
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _refusing_unary(handler.unary_unary), decode, handler.response_serializer
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _refusing_unary_stream(handler.unary_stream), decode, handler.response_serializer
            )
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                _refusing_stream(handler.stream_stream), decode, handler.response_serializer
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                _refusing_stream(handler.stream_unary), decode, handler.response_serializer
            )
        return handler


def _ours(details: grpc.HandlerCallDetails) -> bool:
    method: str | bytes = details.method
    return (method.decode() if isinstance(method, bytes) else method).startswith(OUR_SERVICES)


def _tolerant(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def decode(raw: bytes) -> Any:
        try:
            return deserialize(raw)
        except DecodeError:
            return MALFORMED

    return decode


def _refusing_unary(behavior: Any) -> Any:
    async def refuse_malformed(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if request is MALFORMED:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, DETAILS)
        return await behavior(request, context)

    return refuse_malformed


def _refusing_unary_stream(behavior: Any) -> Any:
    async def refuse_malformed(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        if request is MALFORMED:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, DETAILS)
        async for response in behavior(request, context):
            yield response

    return refuse_malformed


def _refusing_stream(behavior: Any) -> Any:
    if inspect.isasyncgenfunction(behavior):

        async def streaming_checked_requests(
            requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            async for response in behavior(_checked(requests, context), context):
                yield response

        return streaming_checked_requests

    async def answering_checked_requests(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
        return await behavior(_checked(requests, context), context)

    return answering_checked_requests


async def _checked(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
    async for request in requests:
        if request is MALFORMED:
            context.set_code(grpc.StatusCode.INVALID_ARGUMENT)
            context.set_details(DETAILS)
            raise MalformedMessage(DETAILS)
        yield request
