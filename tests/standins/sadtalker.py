"""Stand-in for SadTalker's inference.py (same flags); writes <result_dir>/<timestamp>.mp4."""
import os
import shutil
from argparse import ArgumentParser
from pathlib import Path
from time import strftime

from standin_common import log_args, render

if __name__ == "__main__":
    p = ArgumentParser()
    p.add_argument("--driven_audio", default="./examples/driven_audio/bus_chinese.wav")
    p.add_argument("--source_image", default="./examples/source_image/full_body_1.png")
    p.add_argument("--ref_eyeblink", default=None)
    p.add_argument("--ref_pose", default=None)
    p.add_argument("--checkpoint_dir", default="./checkpoints")
    p.add_argument("--result_dir", default="./results")
    p.add_argument("--pose_style", type=int, default=0)
    p.add_argument("--batch_size", type=int, default=2)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--expression_scale", type=float, default=1.0)
    p.add_argument("--enhancer", type=str, default=None)
    p.add_argument("--background_enhancer", type=str, default=None)
    p.add_argument("--cpu", dest="cpu", action="store_true")
    p.add_argument("--still", action="store_true")
    p.add_argument("--preprocess", default="crop", choices=["crop", "extcrop", "resize", "full", "extfull"])
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    log_args("sadtalker", args)
    if not os.path.isdir(args.checkpoint_dir):
        raise SystemExit(f"checkpoint dir not found: {args.checkpoint_dir}")
    save_dir = os.path.join(args.result_dir, strftime("%Y_%m_%d_%H.%M.%S"))
    os.makedirs(save_dir, exist_ok=True)
    result = render(args.source_image, args.driven_audio, Path(save_dir) / "result.mp4")
    shutil.move(str(result), save_dir + ".mp4")  # as SadTalker does
    if not args.verbose:
        shutil.rmtree(save_dir)
    print("The generated video is named:", save_dir + ".mp4")
