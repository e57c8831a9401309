# SPDX-License-Identifier: GPL-3.0-or-later
"""
Runs the OFFICIAL Sonic pipeline (its preprocessing image_audio_to_tensor, sonic.test() with its
SonicPipeline, then RIFE between frames as Sonic.process does) on a checkpoint folder, and saves
every intermediate as .npy under --out, with index.json:

    mel            whisper log-mel of the clip              [80, 3000 * k]
    whisper        every hidden state, stacked              [audio_len * 2, L, A]
    token_windows  audio2token inputs, per generated frame  [N, 10, L, A]
    tokens         audio2token outputs                      [N, T, D]    silence_tokens [T, D]
    bucket_windows audio2bucket inputs                      [N, 50, 1, A]
    buckets        audio2bucket outputs x 16 + 16           [N, C]
    ref_img / clip_image / face_mask                        the portrait as the pipeline sees it
    clip_embeds    CLIP image embedding                     [D]
    noise_aug / start_noise   the pipeline's random draws (the start noise is injected into our runner)
    sigmas / timesteps        the scheduler's
    latents_step_<i>          all frames' latents after step i (gathered from the next step's windows)
    unet_call0_*   the first UNet call's inputs and output (isolated UNet check)
    time_ids       every UNet call's added_time_ids         [calls, 3]
    decoded        VAE frames in [-1, 1]                    [N, 3, H, W]
    video          (decoded * 0.5 + 0.5).clamp(0, 1)        [N, 3, H, W]
    middles        RIFE's middle frames                     [N - 1, 3, H, W]

The face detector (YOLO, whose weights are not obtainable here) is replaced by a stand-in that
returns the box given with --face-box; everything else is the official code, unmodified.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


class FixedFace:
    """Stands in for AlignImage: the official code reads bboxes_list[0] = (x, y, w, h)."""

    def __init__(self, box):
        self.box = box

    def __call__(self, im, maxface=False):
        return [], [], [list(self.box)]


def save(out, name, t):
    a = t.detach().float().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t, dtype=np.float32)
    np.save(os.path.join(out, name + ".npy"), a.astype(np.float32))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sonic-src", required=True)
    ap.add_argument("--checkpoints", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--audio", required=True, help="16 kHz WAV")
    ap.add_argument("--face-box", required=True, help="x,y,w,h in the image's pixels")
    ap.add_argument("--min-resolution", type=int, default=256)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--dynamic-scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=None, help="default: config/inference/sonic.yaml's")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    src = os.path.abspath(a.sonic_src)
    sys.path.insert(0, src)
    sys.path.insert(0, os.path.join(HERE, "..", "export"))
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    from omegaconf import OmegaConf
    from diffusers.schedulers import EulerDiscreteScheduler
    from transformers import AutoFeatureExtractor
    import sonic as official
    import src.pipelines.pipeline_sonic as pipeline_module
    from src.pipelines.pipeline_sonic import SonicPipeline
    from src.dataset.test_preprocess import image_audio_to_tensor
    from src.utils.RIFE.RIFE_HDv3 import RIFEModel
    from src.utils.util import seed_everything
    from export_sonic import load

    config = OmegaConf.load(os.path.join(src, "config", "inference", "sonic.yaml"))
    config.num_inference_steps = a.steps
    config.motion_bucket_scale = a.dynamic_scale
    if a.seed is not None:
        config.seed = a.seed
    ck = os.path.abspath(a.checkpoints)
    mods, dims = load(src, ck, "cpu", torch.float32, float(config.ip_audio_scale))
    svd = os.path.join(ck, "stable-video-diffusion-img2vid-xt")
    scheduler = EulerDiscreteScheduler.from_pretrained(svd, subfolder="scheduler")
    pipe = SonicPipeline(unet=mods["unet"], image_encoder=mods["clip"], vae=mods["vae"], scheduler=scheduler).to(device="cpu", dtype=torch.float32)
    feature_extractor = AutoFeatureExtractor.from_pretrained(os.path.join(ck, "whisper-tiny"))
    box = [float(v) for v in a.face_box.split(",")]

    rec = {"whisper": [], "tok_in": [], "tok_out": [], "bucket_in": [], "bucket_out": [], "randn": [], "unet": [], "steps": []}

    def on_whisper(mod, args, kwargs, out):
        if kwargs.get("output_hidden_states"):
            rec["whisper"].append(torch.stack(out.hidden_states, dim=2)[0])

    def on_token(mod, args, out):
        rec["tok_in"].append(args[0][0, 0].clone())
        rec["tok_out"].append(out[0, 0].clone())

    def on_bucket(mod, args, out):
        rec["bucket_in"].append(args[0][0, 0].clone())
        rec["bucket_out"].append(out.reshape(-1).clone() * 16 + 16)

    def on_unet(mod, args, kwargs, out):
        ehs = kwargs["encoder_hidden_states"]
        rec["unet"].append(dict(sample=args[0].clone(), t=args[1].clone(), clip=ehs[0].clone(), tokens=ehs[1][0].clone(),
                                mask=kwargs["cross_attention_kwargs"]["ip_adapter_masks"][0].clone(), ids=kwargs["added_time_ids"].clone(), out=out[0].clone()))

    mods["whisper"].encoder.register_forward_hook(on_whisper, with_kwargs=True)
    mods["a2t"].register_forward_hook(on_token)
    mods["a2b"].register_forward_hook(on_bucket)
    mods["unet"].register_forward_hook(on_unet, with_kwargs=True)
    real_randn = pipeline_module.randn_tensor

    def randn(*args, **kw):
        t = real_randn(*args, **kw)
        rec["randn"].append(t.clone())
        return t

    pipeline_module.randn_tensor = randn
    real_step = scheduler.step

    def step(model_output, timestep, sample, *args, **kw):
        rec["steps"].append(dict(t=float(timestep), sample=sample.clone()))
        return real_step(model_output, timestep, sample, *args, **kw)

    scheduler.step = step
    real_decode = pipe.decode_latents
    decoded = {}

    def decode(latents, num_frames, decode_chunk_size=14):
        decoded["latents"] = latents.clone()
        frames = real_decode(latents, num_frames, decode_chunk_size)
        decoded["frames"] = frames.clone()
        return frames

    pipe.decode_latents = decode

    # as Sonic.process: seed, preprocessing, test(), then RIFE
    seed_everything(config.seed)
    test_data = image_audio_to_tensor(FixedFace(box), feature_extractor, a.image, a.audio, limit=config.frame_num, image_size=a.min_resolution, area=config.area)
    height, width = test_data["ref_img"].shape[-2:]
    save(a.out, "ref_img", test_data["ref_img"])
    save(a.out, "clip_image", test_data["clip_images"])
    save(a.out, "face_mask", test_data["face_mask"][0])
    save(a.out, "mel", test_data["audio_feature"])
    audio_len = int(test_data["audio_len"])
    with torch.no_grad():
        clip_embeds = mods["clip"](test_data["clip_images"].unsqueeze(0)).image_embeds[0]
        video = official.test(pipe, config, wav_enc=mods["whisper"], audio_pe=mods["a2t"], audio2bucket=mods["a2b"], image_encoder=mods["clip"],
                              width=width, height=height, batch=test_data)
        rife = RIFEModel(device="cpu")
        rife.load_model(os.path.join(ck, "RIFE"))
        rife.eval()
        middles = [rife.inference(video[:, :, i], video[:, :, i + 1]).clamp(0, 1) for i in range(video.shape[2] - 1)]
    save(a.out, "clip_embeds", clip_embeds)
    whisper = torch.cat(rec["whisper"], dim=0)[: audio_len * 2]
    save(a.out, "whisper", whisper)
    n = len(rec["bucket_out"])
    save(a.out, "token_windows", torch.stack(rec["tok_in"][0::2]))
    save(a.out, "tokens", torch.stack(rec["tok_out"][0::2]))
    save(a.out, "silence_tokens", rec["tok_out"][1])
    save(a.out, "bucket_windows", torch.stack(rec["bucket_in"]))
    save(a.out, "buckets", torch.stack(rec["bucket_out"]))
    noise_aug, start_noise = rec["randn"][0], rec["randn"][1]
    save(a.out, "noise_aug", noise_aug[0])
    save(a.out, "start_noise", start_noise[0])
    save(a.out, "sigmas", scheduler.sigmas)
    save(a.out, "timesteps", scheduler.timesteps)
    first = rec["unet"][0]
    for k in ("sample", "t", "clip", "tokens", "mask", "ids", "out"):
        save(a.out, f"unet_call0_{k}", first[k])
    save(a.out, "time_ids", torch.stack([c["ids"][0] for c in rec["unet"]]))
    # latents after step i: step i + 1's windows read them (frame index_start + k, modulo n)
    stride = int(config.n_sample_frames) - int(config.overlap)
    windows = -(-n // stride)
    for i in range(a.steps - 1):
        shift = (i + 1) * int(config.shift_offset)
        lat = torch.zeros_like(start_noise[0])
        for wi in range(windows):
            s = rec["steps"][(i + 1) * windows + wi]["sample"][0]
            for k in range(s.shape[0]):
                lat[(wi * stride - shift + k) % n] = s[k]
        save(a.out, f"latents_step_{i}", lat)
    save(a.out, f"latents_step_{a.steps - 1}", decoded["latents"][0])
    save(a.out, "decoded", decoded["frames"][0].permute(1, 0, 2, 3))
    save(a.out, "video", video[0].permute(1, 0, 2, 3))
    save(a.out, "middles", torch.cat(middles, dim=0))
    index = {
        "frames": n, "audio_len": audio_len, "width": int(width), "height": int(height), "steps": a.steps, "seed": int(config.seed),
        "face_box": box, "min_resolution": a.min_resolution, "dynamic_scale": a.dynamic_scale, "dims": dims,
        "config": {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v) for k, v in OmegaConf.to_container(config).items()
                   if k in ("fps", "n_sample_frames", "overlap", "shift_offset", "decode_chunk_size", "noise_aug_strength", "area", "step",
                            "min_appearance_guidance_scale", "max_appearance_guidance_scale", "audio_guidance_scale", "i2i_noise_strength", "ip_audio_scale")},
        "unet_calls": len(rec["unet"]),
    }
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump(index, f, indent=2)
    print(f"run_official: {n} frames at {width}x{height}, {len(rec['unet'])} UNet calls, intermediates in {a.out}")


if __name__ == "__main__":
    main()
