import pytest

from contactrouting.survey_tickets import ExpiredSurveyTicket, InvalidSurveyTicket, issue_ticket, verify_ticket
from contactrouting.v1 import contact_pb2, feedback_pb2

SECRET = "feedback-secret-for-tests"
NOW = 1_800_000_000.0


def ticket(expires_at: float = NOW + 3600) -> feedback_pb2.SurveyTicket:
    message = feedback_pb2.SurveyTicket(
        survey_id="survey-1",
        contact_id="contact-1",
        agent_id="agent-7",
        queue="support_hr",
        language="hr",
        channel=contact_pb2.CHANNEL_EMAIL,
        scales=[contact_pb2.SURVEY_SCALE_CSAT, contact_pb2.SURVEY_SCALE_NPS],
    )
    message.expires_at.FromSeconds(int(expires_at))
    return message


def test_a_ticket_round_trips_everything_it_names() -> None:
    assert verify_ticket(issue_ticket(ticket(), SECRET), SECRET, NOW) == ticket()


def test_a_ticket_is_url_safe() -> None:
    token = issue_ticket(ticket(), SECRET)
    assert all(c.isalnum() or c in "-_." for c in token)


def test_an_expired_ticket_is_refused_as_expired() -> None:
    with pytest.raises(ExpiredSurveyTicket):
        verify_ticket(issue_ticket(ticket(expires_at=NOW), SECRET), SECRET, NOW)


def test_a_ticket_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidSurveyTicket, match="signature"):
        verify_ticket(issue_ticket(ticket(), "another-secret-of-length"), SECRET, NOW)


def test_a_tampered_payload_is_refused_even_if_it_still_decodes() -> None:
    signature = issue_ticket(ticket(), SECRET).split(".")[1]
    forged = issue_ticket(ticket(expires_at=NOW + 10 * 86400), SECRET).split(".")[0]
    with pytest.raises(InvalidSurveyTicket, match="signature"):
        verify_ticket(f"{forged}.{signature}", SECRET, NOW)


@pytest.mark.parametrize("token", ["", ".", "abc", "abc.", ".sig", "x" * 5000 + ".sig", "!!!.???"])
def test_malformed_tickets_are_refused(token: str) -> None:
    with pytest.raises(InvalidSurveyTicket):
        verify_ticket(token, SECRET, NOW)


def test_a_signed_but_undecodable_payload_is_refused_cleanly() -> None:
    from contactrouting.signing import b64encode, sign

    payload = b64encode(b"\xff\xff\xff")
    with pytest.raises(InvalidSurveyTicket, match="payload"):
        verify_ticket(f"{payload}.{sign(SECRET, b'survey-ticket.' + payload.encode())}", SECRET, NOW)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        issue_ticket(ticket(), "short")
