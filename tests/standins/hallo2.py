"""Stand-in for Hallo2's scripts/inference_long.py; writes <save_path>/<stem>/merge_video.mp4."""
import argparse
from pathlib import Path

import yaml

from standin_common import log_args, render, require_file

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("-c", "--config", default="configs/inference/long.yaml")
    p.add_argument("--source_image", type=str, required=False)
    p.add_argument("--driving_audio", type=str, required=False)
    p.add_argument("--pose_weight", type=float, required=False)
    p.add_argument("--face_weight", type=float, required=False)
    p.add_argument("--lip_weight", type=float, required=False)
    p.add_argument("--face_expand_ratio", type=float, required=False)
    p.add_argument("--audio_ckpt_dir", "--checkpoint", type=str, required=False)
    args = p.parse_args()
    log_args("hallo2", args)
    cfg = yaml.safe_load(require_file(args.config, "config").read_text())
    source = args.source_image or cfg["source_image"]
    audio = args.driving_audio or cfg["driving_audio"]
    out_dir = Path(cfg["save_path"]) / Path(source).stem
    render(source, audio, out_dir / "seg_video" / "0000.mp4")
    render(source, audio, out_dir / "merge_video.mp4")
