#!/usr/bin/env python
"""Rebuild the bundled human reference, ``lpmbench/reference_data/human-v1.json``.

    python scripts/build_human_reference.py --real ../shared/real [--out FILE]

The reference holds statistics only (quantiles of the natural metrics per context, the mean and
covariance of windowed facial dynamics) and the list of the recordings they come from. The
recordings are real people from public repositories, each with its own soundtrack; they are read
where they lie and never copied into the project. Each was looked at: the clips that show acted
performances (face-pulling, exaggerated expressions, mouth stretching) rather than natural
behaviour are left out (see CLIPS below). Any user can build their own reference from a corpus they
own with ``lpmbench reference build VIDEOS...`` and score against it with ``reference.path=FILE``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

LIVEPORTRAIT = "KwaiVGI/LivePortrait @1986663b"
SADTALKER = "OpenTalker/SadTalker @cd4c0465, examples/ref_video/"
VEXPRESS = "tencent-ailab/V-Express @6814f7db, test_samples/short_case/{}/gt.mp4"

# (file under <real>/human, context, provenance)
CLIPS = [
    ("sadtalker_wda_aoc.mp4", "speak", SADTALKER + " an HDTF-style WDA talking head ('aoc')"),
    ("sadtalker_wda_katie.mp4", "speak", SADTALKER + " an HDTF-style WDA talking head ('katie')"),
    ("vexpress_short_10.mp4", "speak", VEXPRESS.format("10")),
    ("vexpress_short_AOC.mp4", "speak", VEXPRESS.format("AOC")),
    ("vexpress_short_tys.mp4", "speak", VEXPRESS.format("tys")),
    ("liveportrait_d11.mp4", "speak", LIVEPORTRAIT + ", assets/examples/driving/d11.mp4"),
    ("liveportrait_d20.mp4", "speak", LIVEPORTRAIT + ", assets/examples/driving/d20.mp4"),
    ("liveportrait_d9.mp4", "idle", LIVEPORTRAIT + ", assets/examples/driving/d9.mp4"),
    ("liveportrait_d14.mp4", "idle", LIVEPORTRAIT + ", assets/examples/driving/d14.mp4"),
    ("liveportrait_d19.mp4", "idle", LIVEPORTRAIT + ", assets/examples/driving/d19.mp4"),
    ("liveportrait_s18.mp4", "idle", LIVEPORTRAIT + ", assets/examples/source/s18.mp4"),
    ("liveportrait_s20.mp4", "idle", LIVEPORTRAIT + ", assets/examples/source/s20.mp4"),
    ("liveportrait_s29.mp4", "idle", LIVEPORTRAIT + ", assets/examples/source/s29.mp4"),
    ("liveportrait_s32.mp4", "idle", LIVEPORTRAIT + ", assets/examples/source/s32.mp4"),
]
LEFT_OUT = {"liveportrait_d3": "acted face-pulling", "liveportrait_d6": "acted emotions",
            "liveportrait_d10": "acted emotions", "liveportrait_d12": "mouth stretching",
            "liveportrait_d18": "exaggerated expressions", "liveportrait_s13": "face out of view half the clip"}
NOTES = ("Built by scripts/build_human_reference.py from 7 talking and 7 silent recordings of real people in "
         "public repositories (provenance per clip). Left out after viewing: "
         + "; ".join(f"{k} ({v})" for k, v in LEFT_OUT.items())
         + ". There is no recording of a listener: the listen context falls back to the silent (idle) clips.")


def main(argv: list[str] | None = None) -> int:
    from lpmbench.plan import build_plan
    from lpmbench.reference import HumanReference, build_reference

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--real", type=Path, required=True, help="folder holding human/<clip>.mp4")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "lpmbench" / "reference_data"
                   / "human-v1.json")
    p.add_argument("--cache", default=None, help="analysis cache folder (analysis.cache_dir)")
    a = p.parse_args(argv)
    missing = [c for c, _, _ in CLIPS if not (a.real / "human" / c).is_file()]
    if missing:
        p.error(f"not found under {a.real / 'human'}: {', '.join(missing)}")
    overrides = [f"analysis.cache_dir={a.cache}"] if a.cache else []
    # the reference is what people do: it is measured with no reference of its own
    plan = build_plan(overrides, need_suite=False)
    videos = [(a.real / "human" / c, ctx, prov) for c, ctx, prov in CLIPS]
    doc = build_reference(plan, videos, name="human", version="1", notes=NOTES,
                          progress=lambda i, n, name: print(f"[{i + 1}/{n}] {name}", flush=True))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {a.out}: id {HumanReference(doc).id}, {len(doc['metrics'])} metrics, {len(doc['sources'])} clips")
    return 0


if __name__ == "__main__":
    sys.exit(main())
