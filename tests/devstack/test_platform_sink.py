from pathlib import Path

import httpx

from devstack.platform_sink import read_records, serve
from devstack.ports import free_port


def test_every_send_is_recorded_and_answered_in_each_platforms_success_shape(tmp_path: Path) -> None:
    port = free_port()
    server = serve("127.0.0.1", port, tmp_path)
    try:
        first = httpx.post(f"http://127.0.0.1:{port}/telegram/botTOKEN/sendMessage", json={"chat_id": 42, "text": "hi"})
        second = httpx.post(f"http://127.0.0.1:{port}/graph/me/messages", json={"recipient": {"id": "7"}})
    finally:
        server.shutdown()
    assert first.status_code == second.status_code == 200
    assert first.json()["ok"] is True and first.json()["result"] == {"message_id": 1}
    assert second.json()["message_id"] == "m_2"
    records = read_records(tmp_path)
    assert [(r["path"], r["body"]) for r in records] == [
        ("/telegram/botTOKEN/sendMessage", {"chat_id": 42, "text": "hi"}),
        ("/graph/me/messages", {"recipient": {"id": "7"}}),
    ]
