"""Stand-in for EchoMimic's infer_audio2vid.py: inputs from the config's test_cases; writes
output/<date>/<time>--seed_<seed>-<W>x<H>/<ref>_<audio>_<H>x<W>_<cfg>_<time>[_withaudio].mp4."""
import argparse
from datetime import datetime
from pathlib import Path

import yaml

from standin_common import log_args, render, require_file

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--config", type=str, default="./configs/prompts/animation.yaml")
    p.add_argument("-W", type=int, default=512)
    p.add_argument("-H", type=int, default=512)
    p.add_argument("-L", type=int, default=1200)
    p.add_argument("--seed", type=int, default=420)
    p.add_argument("--facemusk_dilation_ratio", type=float, default=0.1)
    p.add_argument("--facecrop_dilation_ratio", type=float, default=0.5)
    p.add_argument("--context_frames", type=int, default=12)
    p.add_argument("--context_overlap", type=int, default=3)
    p.add_argument("--cfg", type=float, default=2.5)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--sample_rate", type=int, default=16000)
    p.add_argument("--fps", type=int, default=24)
    p.add_argument("--device", type=str, default="cuda")
    args = p.parse_args()
    config = yaml.safe_load(require_file(args.config, "config").read_text())
    log_args("echomimic", argparse.Namespace(**vars(args), test_cases=config.get("test_cases"),
                                             unet=config.get("denoising_unet_path")))
    now = datetime.now()
    save_dir = Path(f"output/{now:%Y%m%d}/{now:%H%M}--seed_{args.seed}-{args.W}x{args.H}")
    for ref, audios in config["test_cases"].items():
        for audio in audios:
            name = f"{Path(ref).stem}_{Path(audio).stem}_{args.H}x{args.W}_{int(args.cfg)}_{now:%H%M}"
            render(ref, None, save_dir / f"{name}.mp4", fps=args.fps,
                   n_frames=None)  # the silent one first, as EchoMimic writes it
            render(ref, audio, save_dir / f"{name}_withaudio.mp4", fps=args.fps)
