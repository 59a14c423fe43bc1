"""Check that an RTSP URL plays, and tell a wrong account from a dead stream."""

from __future__ import annotations

import av

from ..vendors.base import AuthFailed, Unreachable

# Open like a fast viewer: no probing beyond the first packets, so the check costs no full GOP.
_OPEN_OPTIONS = {"rtsp_transport": "tcp", "analyzeduration": "1", "probesize": "4096", "timeout": "5000000"}


def probe_rtsp(url: str) -> None:
    """Blocking: open `url` and read its stream list. Raises AuthFailed or Unreachable."""
    try:
        with av.open(url, options=_OPEN_OPTIONS, timeout=5.0) as container:
            if not container.streams.video:
                raise Unreachable("the RTSP stream has no video")
    except av.error.HTTPUnauthorizedError as err:
        raise AuthFailed("camera_account") from err
    except (av.error.FFmpegError, OSError) as err:
        raise Unreachable(f"the RTSP stream did not play ({type(err).__name__})") from err
