"""Shared by the widget tests: move one control from code and report whether the picture changed."""
PNG = b"\x89PNG\r\n\x1a\n"


def redraws(ex, control, value):
    """Set ``ex.controls[control]`` to ``value``; assert exactly one update produced a PNG in the
    explorer's Image widget; return whether the PNG differs from the one before."""
    before = (len(ex.timings), ex.png)
    ex.controls[control].value = value
    assert len(ex.timings) == before[0] + 1, "the control did not trigger an update"
    assert ex.image.value == ex.png and ex.png.startswith(PNG)
    return ex.png != before[1]
