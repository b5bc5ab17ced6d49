"""Stand-in for LivePortrait's inference.py (-s/-d/-o): writes <o>/<s>--<d>_concat.mp4, then
<o>/<s>--<d>.mp4, as long as the driving video."""
import argparse
from pathlib import Path

from standin_common import log_args, render, require_file

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("-s", "--source", required=True)
    p.add_argument("-d", "--driving", required=True)
    p.add_argument("-o", "--output_dir", default="animations/")
    p.add_argument("--flag_crop_driving_video", action="store_true")
    p.add_argument("--flag_relative_motion", action="store_true", default=True)
    args = p.parse_args()
    log_args("liveportrait", args)
    from lpmbench.media import probe

    info = probe(require_file(args.driving, "driving video"))
    stem = f"{Path(args.source).stem}--{Path(args.driving).stem}"
    render(args.source, None, Path(args.output_dir) / f"{stem}_concat.mp4", fps=info.fps, n_frames=info.n_frames)
    render(args.source, None, Path(args.output_dir) / f"{stem}.mp4", fps=info.fps, n_frames=info.n_frames)
