# SPDX-License-Identifier: GPL-3.0-or-later
"""
Sonic's cost on a GPU, measured on the real-size architecture with random weights in FP16 (the
official module classes from --sonic-src, sizes of models/sonic/parity/tiny_sonic.py "full"):

    UNet, batch 3 (the three guidance branches), at 512 x 512, windows of 25 and 12 frames
    VAE decode per frame (chunks of 8), VAE encode, whisper (30 s), audio2token and audio2bucket
    (a window's frames), CLIP, RIFE per middle frame

then the generated frames per second those allow at 10, 15 and 25 steps (offline: windows of 25
that do not overlap; streaming: windows of 25 with a hop of 20), and the output fps with RIFE.
Run by models/sonic/gpu-check.sh on the device machine; --device cpu --size tiny checks the script.
"""
import argparse
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "parity"))
sys.path.insert(0, os.path.join(HERE, "export"))


def timed(fn, device, repeat):
    fn()  # warm-up (cuDNN autotune, allocations)
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeat * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sonic-src", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--size", choices=["full", "tiny"], default="full")
    ap.add_argument("--side", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--frames", default="25,12", help="UNet window lengths to time (the fps estimates need 25)")
    ap.add_argument("--out", help="write the figures as JSON here")
    a = ap.parse_args()
    from tiny_sonic import make_modules
    from export_sonic import Unet, VaeDecoder, AudioToToken, AudioToBucket, Interpolator

    dev = a.device
    dtype = torch.float16 if dev == "cuda" else torch.float32
    t0 = time.perf_counter()
    mods, dims = make_modules(os.path.abspath(a.sonic_src), a.size, 7)
    for m in mods.values():
        m.to(device=dev, dtype=dtype).eval().requires_grad_(False)
    params = sum(p.numel() for p in mods["unet"].parameters())
    print(f"gpu-check: {a.size} modules on {dev} ({torch.cuda.get_device_name() if dev == 'cuda' else 'cpu'}), UNet {params / 1e9:.2f} B parameters, "
          f"built in {time.perf_counter() - t0:.0f} s, torch {torch.__version__}", flush=True)
    L, A, T, D = dims["L"], dims["A"], dims["T"], dims["D"]
    H = W = a.side
    h, w = H // 8, W // 8
    r = lambda *s: torch.randn(*s, device=dev, dtype=dtype)
    mask = torch.zeros(1, 1, H, W, device=dev, dtype=dtype)
    mask[..., H // 5: H * 4 // 5, W // 4: W * 3 // 4] = 1
    unet = Unet(mods["unet"])
    figures = {}
    with torch.no_grad():
        for F in [int(f) for f in a.frames.split(",")]:
            ids = torch.tensor([[12.5, 40.0, 60.0]] * 3, device=dev, dtype=dtype)
            args = (r(3, F, 8, h, w), torch.full((3,), 1.0, device=dev, dtype=dtype), r(3, 1, D), r(3, F, T, D), mask, ids)
            figures[f"unet_ms_window{F}"] = timed(lambda: unet(*args), dev, a.repeat)
            print(f"  UNet batch 3 x {F} frames {W}x{H}: {figures[f'unet_ms_window{F}']:.1f} ms", flush=True)
        dec = VaeDecoder(mods["vae"])
        lat = r(8, 4, h, w)
        figures["vae_decode_ms_per_frame"] = timed(lambda: dec(lat), dev, a.repeat) / 8
        img = r(1, 3, H, W)
        figures["vae_encode_ms"] = timed(lambda: mods["vae"].encode(img).latent_dist.mean, dev, a.repeat)
        mel = r(1, 80, 3000)
        figures["whisper_ms_30s"] = timed(lambda: mods["whisper"].encoder(mel, output_hidden_states=True), dev, a.repeat)
        a2t, a2b = AudioToToken(mods["a2t"]), AudioToBucket(mods["a2b"])
        tw, bw, e = r(25, 10, L, A), r(25, 50, 1, A), r(25, D)
        figures["audio_models_ms_window25"] = timed(lambda: (a2t(tw), a2b(bw, e)), dev, a.repeat)
        px = r(1, 3, 224, 224)
        figures["clip_ms"] = timed(lambda: mods["clip"](px), dev, a.repeat)
        rife = Interpolator(mods["rife"])
        f0, f1 = torch.rand(1, 3, H, W, device=dev, dtype=dtype), torch.rand(1, 3, H, W, device=dev, dtype=dtype)
        figures["rife_ms_per_middle"] = timed(lambda: rife(f0, f1), dev, a.repeat)
    for k in ("vae_decode_ms_per_frame", "vae_encode_ms", "whisper_ms_30s", "audio_models_ms_window25", "clip_ms", "rife_ms_per_middle"):
        print(f"  {k}: {figures[k]:.1f} ms", flush=True)
    if "unet_ms_window25" not in figures:
        if a.out:
            with open(a.out, "w") as f:
                json.dump(figures, f, indent=2)
        return
    print("\nframes per second these allow (per 25-frame window: steps x UNet + 25 decodes + 24 RIFE + audio models; generated at 12.5 fps, shown at 25 with RIFE)")
    for steps in (10, 15, 25):
        window_ms = steps * figures["unet_ms_window25"] + 25 * figures["vae_decode_ms_per_frame"] + 24 * figures["rife_ms_per_middle"] + figures["audio_models_ms_window25"]
        offline_gen_fps = 25 / (window_ms / 1000)
        streaming_hop = 20
        stream_ms = steps * figures["unet_ms_window25"] + streaming_hop * (figures["vae_decode_ms_per_frame"] + figures["rife_ms_per_middle"]) + figures["audio_models_ms_window25"]
        stream_ratio = (streaming_hop / 12.5 * 1000) / stream_ms
        figures[f"steps{steps}"] = {"window_ms": window_ms, "generated_fps": offline_gen_fps, "output_fps": 2 * offline_gen_fps, "streaming_realtime_factor": stream_ratio}
        print(f"  {steps:2d} steps: a window of 25 takes {window_ms:.0f} ms -> {offline_gen_fps:.1f} generated fps, {2 * offline_gen_fps:.1f} fps shown; "
              f"streaming (hop 20 = 1.6 s of video per window): {stream_ratio:.2f}x real time ({'keeps up' if stream_ratio >= 1 else 'cannot stream'})", flush=True)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
