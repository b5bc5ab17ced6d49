"""Stand-in for Sonic's demo.py: positional image, audio, output."""
import argparse
from pathlib import Path

from standin_common import log_args, render

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("image_path")
    p.add_argument("audio_path")
    p.add_argument("output_path")
    p.add_argument("--dynamic_scale", type=float, default=1.0)
    p.add_argument("--crop", action="store_true")
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    log_args("sonic", args)
    render(args.image_path, args.audio_path, Path(args.output_path))
