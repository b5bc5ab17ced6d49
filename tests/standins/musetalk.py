"""Stand-in for MuseTalk's scripts/realtime_inference.py (run as ``python -m scripts.realtime_inference``):
avatars from --inference_config; writes <result_dir>/<version>/avatars/<id>/vid_output/<clip>.mp4.
Like the real one, it asks on stdin whether to re-create an avatar that already exists."""
import argparse
from pathlib import Path

import yaml

from standin_common import log_args, render, require_file

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--version", type=str, default="v15", choices=["v1", "v15"])
    p.add_argument("--ffmpeg_path", type=str, default="./ffmpeg-4.4-amd64-static/")
    p.add_argument("--gpu_id", type=int, default=0)
    p.add_argument("--vae_type", type=str, default="sd-vae")
    p.add_argument("--unet_config", type=str, default="./models/musetalk/config.json")
    p.add_argument("--unet_model_path", type=str, default="./models/musetalk/pytorch_model.bin")
    p.add_argument("--whisper_dir", type=str, default="./models/whisper")
    p.add_argument("--inference_config", type=str, default="configs/inference/realtime.yaml")
    p.add_argument("--bbox_shift", type=int, default=0)
    p.add_argument("--result_dir", default="./results")
    p.add_argument("--extra_margin", type=int, default=10)
    p.add_argument("--fps", type=int, default=25)
    p.add_argument("--audio_padding_length_left", type=int, default=2)
    p.add_argument("--audio_padding_length_right", type=int, default=2)
    p.add_argument("--batch_size", type=int, default=20)
    p.add_argument("--output_vid_name", type=str, default=None)
    p.add_argument("--use_saved_coord", action="store_true")
    p.add_argument("--saved_coord", action="store_true")
    p.add_argument("--parsing_mode", default="jaw")
    p.add_argument("--left_cheek_width", type=int, default=90)
    p.add_argument("--right_cheek_width", type=int, default=90)
    p.add_argument("--skip_save_images", action="store_true")
    args = p.parse_args()
    require_file(args.unet_model_path, "unet model")
    config = yaml.safe_load(require_file(args.inference_config, "inference config").read_text())
    log_args("musetalk", argparse.Namespace(**vars(args), avatars=config))
    for avatar_id, av in config.items():
        path = Path(args.result_dir) / args.version / "avatars" / avatar_id
        if av["preparation"] and path.exists():
            answer = input(f"{avatar_id} exists, Do you want to re-create it ? (y/n)")  # EOFError on no stdin
        path.mkdir(parents=True, exist_ok=True)
        for key, audio in av["audio_clips"].items():
            render(av["video_path"], audio, path / "vid_output" / f"{key}.mp4", fps=args.fps)
