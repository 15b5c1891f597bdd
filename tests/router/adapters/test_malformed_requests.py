"""Bytes that are not the request's protobuf message get INVALID_ARGUMENT from a real router, and no error is
logged: a corrupt request is the caller's fault, not the service's."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from contactrouting.v1 import agent_desk_pb2

from .harness import RouterUnderTest

pytestmark = pytest.mark.integration
CORRUPT = b"\x0a\x05ab"  # field 1 claims five bytes and has two


@pytest.fixture(scope="module")
def router(broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RouterUnderTest]:
    under_test = RouterUnderTest(broker, tmp_path_factory.mktemp("router"))
    under_test.start()
    yield under_test
    under_test.stop()


def raw_bytes(message: bytes) -> bytes:
    return message


def test_a_corrupt_admin_request_is_invalid_argument(router: RouterUnderTest) -> None:
    with grpc.insecure_channel(router.target) as channel:
        call = channel.unary_unary(
            "/contactrouting.v1.RoutingAdmin/GetQueueStats",
            request_serializer=raw_bytes,
            response_deserializer=agent_desk_pb2.GetQueueStatsResponse.FromString,
        )
        with pytest.raises(grpc.RpcError) as refused:
            call(CORRUPT, timeout=5)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert '"level": "error"' not in router.log_text()


def test_a_corrupt_message_on_an_agent_stream_ends_it_with_invalid_argument(router: RouterUnderTest) -> None:
    with grpc.insecure_channel(router.target) as channel:
        connect = channel.stream_stream(
            "/contactrouting.v1.AgentDesk/Connect",
            request_serializer=raw_bytes,
            response_deserializer=agent_desk_pb2.DeskMessage.FromString,
        )
        responses = connect(iter([CORRUPT]), timeout=5)
        with pytest.raises(grpc.RpcError) as refused:
            list(responses)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "desk_message_malformed" in router.log_text()
    assert '"level": "error"' not in router.log_text()
