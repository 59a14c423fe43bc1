"""USB webcams on the Home Assistant host: V4L2 capture devices, opened once and shared."""
