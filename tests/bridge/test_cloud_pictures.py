"""What the bridge says about a cloud camera's picture and a cloud event (no HA needed: pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

from mcp_bridge.tools.media import _event, picture_label

NOW = datetime(2026, 12, 1, 10, 5, tzinfo=UTC)


def test_a_cloud_picture_is_labelled_with_its_kind_and_age() -> None:
    attributes = {"picture_kind": "event", "picture_taken_at": "2026-12-01T10:02:00+00:00"}
    label = picture_label("Front door", attributes, now=NOW)
    assert label == "Front door: event picture taken 3 min ago (2026-12-01T10:02:00+00:00)"


def test_a_fresh_snapshot_says_just_now() -> None:
    attributes = {"picture_kind": "snapshot", "picture_taken_at": "2026-12-01T10:04:58+00:00"}
    assert picture_label("Garage", attributes, now=NOW) == (
        "Garage: snapshot picture taken just now (2026-12-01T10:04:58+00:00)"
    )


def test_an_old_picture_says_days() -> None:
    attributes = {"picture_kind": "event", "picture_taken_at": "2026-11-28T10:05:00+00:00"}
    label = picture_label("Dog cam", attributes, now=NOW)
    assert label is not None
    assert "3 days ago" in label


def test_a_live_cameras_picture_has_no_label() -> None:
    live = {"friendly_name": "Tapo", "frontend_stream_type": "web_rtc"}
    assert picture_label("Tapo", live, now=NOW) is None


def test_event_details_keep_the_brands_attributes_without_link_signatures() -> None:
    attributes = {
        "event_type": "barking",
        "event_types": ["barking", "person"],
        "friendly_name": "Dog cam Pet event",
        "caption": "Your dog is barking",
        "thumbnail": "https://media.furbo.test/e/1.jpg?X-Amz-Signature=abcdef&X-Amz-Credential=KEY",
    }
    event = _event("event.dog_cam_pet_event", "2026-12-01T10:00:00.123+00:00", attributes)
    assert event == {
        "time": "2026-12-01T10:00:00+00:00",
        "type": "barking",
        "entity_id": "event.dog_cam_pet_event",
        "details": {"caption": "Your dog is barking", "thumbnail": "https://media.furbo.test/e/1.jpg"},
    }
