"""The quality benchmark's arithmetic (``bench/netlab/quality.py``): figures over a window are
differences of Chromium's cumulative getStats counters, per the W3C stats definitions
(concealedSamples / totalSamplesReceived; jitterBufferDelay / jitterBufferEmittedCount)."""

from __future__ import annotations

import pytest

from bench.netlab.quality import combine, first_media, window_figures


def sample(
    t: float,
    concealed: int,
    samples: int,
    jb_s: float,
    emitted: int,
    frames: int,
    freezes: int,
    freeze_s: float,
) -> dict[str, object]:
    return {
        "t": t,
        "rtt_ms": 51.2,
        "audio": {
            "concealed": concealed,
            "samples": samples,
            "jb_delay_s": jb_s,
            "jb_emitted": emitted,
            "jitter_s": 0.004,
            "lost": 0,
            "packets": 0,
        },
        "video": {
            "frames": frames,
            "freezes": freezes,
            "freeze_s": freeze_s,
            "width": 640,
            "height": 480,
            "jb_delay_s": 0,
            "jb_emitted": 0,
        },
    }


def test_window_figures_are_differences_of_the_counters_not_their_totals() -> None:
    before = sample(10.0, 1_000, 480_000, 48_000.0, 480_000, 200, 1, 0.5)
    after = sample(30.0, 10_600, 1_440_000, 144_000.0, 1_440_000, 600, 3, 1.25)
    got = window_figures(before, after)
    assert got["concealed_ratio"] == pytest.approx(9_600 / 960_000)
    assert got["audio_jb_delay_ms"] == pytest.approx(100.0)
    assert got["fps"] == pytest.approx(20.0)
    assert (got["freezes"], got["freeze_s"]) == (2, 0.75)
    assert got["resolution"] == "640x480" and got["rtt_ms"] == 51.2


def test_a_side_that_received_nothing_has_no_ratio_rather_than_a_division_by_zero() -> None:
    same = sample(10.0, 0, 0, 0.0, 0, 0, 0, 0.0)
    got = window_figures(same, {**same, "t": 20.0})
    assert got["concealed_ratio"] is None and got["audio_jb_delay_ms"] is None
    assert got["fps"] == 0


def test_combine_averages_numbers_and_lists_the_rest() -> None:
    got = combine([{"fps": 20.0, "resolution": "640x480"}, {"fps": 10.0, "resolution": "320x240"}])
    assert got == {"fps": 15.0, "resolution": "640x480 / 320x240"}


def test_set_up_lasts_until_a_page_has_both_audio_and_a_frame_from_its_own_start() -> None:
    firsts = [
        {"audio": 1_300.0, "video": 1_900.0, "stages": {"created": 1_100.0, "ice": 1_200.0}},
        {"audio": 2_250.0, "video": 2_100.0, "stages": {"created": 1_600.0, "connected": 1_800.0}},
    ]
    got = first_media(firsts, [1_000.0, 1_500.0])
    assert got == {
        "setup_ms": [900, 750],
        "first_audio_ms": [300, 750],
        "first_frame_ms": [900, 600],
        # each page's stages from its own start; a stage it never reached is None
        "pc_created_ms": [100, 100],
        "ice_connected_ms": [200, None],
        "dtls_connected_ms": [None, 300],
    }
    assert first_media(firsts, 1_000.0)["setup_ms"] == [900, 1_250]
