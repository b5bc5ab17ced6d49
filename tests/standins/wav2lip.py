"""Stand-in for Wav2Lip's inference.py (same flags); writes --outfile."""
import argparse
from pathlib import Path

from standin_common import log_args, render, require_file

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint_path", type=str, required=True)
    p.add_argument("--face", type=str, required=True)
    p.add_argument("--audio", type=str, required=True)
    p.add_argument("--outfile", type=str, default="results/result_voice.mp4")
    p.add_argument("--static", type=bool, default=False)
    p.add_argument("--fps", type=float, default=25.0)
    p.add_argument("--pads", nargs="+", type=int, default=[0, 10, 0, 0])
    p.add_argument("--face_det_batch_size", type=int, default=16)
    p.add_argument("--wav2lip_batch_size", type=int, default=128)
    p.add_argument("--resize_factor", default=1, type=int)
    p.add_argument("--crop", nargs="+", type=int, default=[0, -1, 0, -1])
    p.add_argument("--box", nargs="+", type=int, default=[-1, -1, -1, -1])
    p.add_argument("--rotate", default=False, action="store_true")
    p.add_argument("--nosmooth", default=False, action="store_true")
    args = p.parse_args()
    log_args("wav2lip", args)
    require_file(args.checkpoint_path, "checkpoint")
    render(args.face, args.audio, Path(args.outfile), fps=args.fps)
