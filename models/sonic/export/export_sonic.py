#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Export Sonic's sub-models to ONNX with the contract of models/sonic/contract.ts, on a GPU host that
has the official Sonic repository and its weights (CC BY-NC-SA 4.0: they stay on your hosts).

    python3 export_sonic.py --sonic /path/to/Sonic --out /path/to/weights [--fp16] [--window 25]

Writes audio_encoder.onnx, audio2token.onnx, audio2bucket.onnx, image_encoder.onnx,
vae_encoder.onnx, unet.onnx, vae_decoder.onnx and manifest.json (SHA-256 of each file). Every file
is checked after export: ONNX Runtime on the same random inputs must agree with PyTorch
(--tolerance), or the script stops and says which one differs.

Written against the public Sonic code (module paths and constructor arguments below); it was not
run where it was written (no GPU, no weights, no internet there). Read README.md first.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

T_TOKENS, D_WIDTH, WHISPER_LAYERS, WHISPER_WIDTH = 32, 1024, 5, 384


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class AudioEncoder(torch.nn.Module):
    """whisper-tiny encoder: every hidden state, stacked on dim 2 -> [B, 1500, 5, 384]"""

    def __init__(self, whisper):
        super().__init__()
        self.encoder = whisper.encoder

    def forward(self, input_features):
        out = self.encoder(input_features, output_hidden_states=True)
        return torch.stack(out.hidden_states, dim=2)


class AudioToToken(torch.nn.Module):
    """[N, 10, 5, 384] (one window per generated frame) -> [N, 32, 1024]"""

    def __init__(self, proj):
        super().__init__()
        self.proj = proj

    def forward(self, audio_window):
        # the reference calls it with [batch=1, frames=N, 10, 5, 384]
        return self.proj(audio_window.unsqueeze(0)).squeeze(0)


class AudioToBucket(torch.nn.Module):
    """[N, 50, 1, 384] last hidden state + [N, 1024] -> [N, 1] SVD motion bucket (x 16 + 16 folded in)"""

    def __init__(self, bucket):
        super().__init__()
        self.bucket = bucket

    def forward(self, audio_window, image_embeds):
        out = self.bucket(audio_window.unsqueeze(1), image_embeds)
        return out.reshape(audio_window.shape[0], 1) * 16 + 16


class ImageEncoder(torch.nn.Module):
    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, pixel_values):
        return self.clip(pixel_values).image_embeds


class VaeEncoder(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, image):
        return self.vae.encode(image).latent_dist.mode()


class VaeDecoder(torch.nn.Module):
    """latents already divided by 0.18215 (the runner does it), [F, 4, h, w] -> [F, 3, H, W]"""

    def __init__(self, vae, frames):
        super().__init__()
        self.vae, self.frames = vae, frames

    def forward(self, latents):
        return self.vae.decode(latents, num_frames=self.frames).sample


class Unet(torch.nn.Module):
    """
    [B, F, 8, h, w], [B], [B, 1, 1024], [B, F, 32, 1024], [B, 3] -> [B, F, 4, h, w] (v-prediction).
    How Sonic's UNet takes the audio tokens: its audio attention is an IP-adapter (add_ip_adapters
    with 32 tokens); check the call in the Sonic repository's src/pipelines/pipeline_sonic.py and
    change call() below if it differs. The export's numeric check cannot catch a wrong call.
    """

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states, audio_tokens, added_time_ids):
        return self.call(sample, timestep, encoder_hidden_states, audio_tokens, added_time_ids)

    def call(self, sample, timestep, ehs, audio, time_ids):
        return self.unet(sample, timestep, encoder_hidden_states=ehs, audio_embedding=audio, added_time_ids=time_ids, return_dict=False)[0]


def load(sonic_dir, device, dtype):
    sys.path.insert(0, sonic_dir)
    from diffusers import AutoencoderKLTemporalDecoder
    from transformers import CLIPVisionModelWithProjection, WhisperModel
    from src.models.audio_adapter.audio_proj import AudioProjModel
    from src.models.audio_adapter.audio_to_bucket import Audio2bucketModel
    from src.models.base.unet_spatio_temporal_condition import UNetSpatioTemporalConditionModel, add_ip_adapters

    ck = os.path.join(sonic_dir, "checkpoints")
    svd = os.path.join(ck, "stable-video-diffusion-img2vid-xt")
    whisper = WhisperModel.from_pretrained(os.path.join(ck, "whisper-tiny"))
    a2t = AudioProjModel(seq_len=10, blocks=5, channels=384, intermediate_dim=1024, output_dim=1024, context_tokens=32)
    a2t.load_state_dict(torch.load(os.path.join(ck, "Sonic", "audio2token.pth"), map_location="cpu"), strict=True)
    a2b = Audio2bucketModel(seq_len=50, blocks=1, channels=384, clip_channels=1024, intermediate_dim=1024, output_dim=1, context_tokens=2)
    a2b.load_state_dict(torch.load(os.path.join(ck, "Sonic", "audio2bucket.pth"), map_location="cpu"), strict=True)
    clip = CLIPVisionModelWithProjection.from_pretrained(svd, subfolder="image_encoder")
    vae = AutoencoderKLTemporalDecoder.from_pretrained(svd, subfolder="vae")
    unet = UNetSpatioTemporalConditionModel.from_pretrained(svd, subfolder="unet")
    add_ip_adapters(unet, [32], [1.0])
    unet.load_state_dict(torch.load(os.path.join(ck, "Sonic", "unet.pth"), map_location="cpu"), strict=True)
    mods = dict(whisper=whisper, a2t=a2t, a2b=a2b, clip=clip, vae=vae, unet=unet)
    for m in mods.values():
        m.to(device=device, dtype=dtype).eval().requires_grad_(False)
    return mods


def export(module, inputs, names, outputs, dynamic, path, opset):
    torch.onnx.export(module, tuple(inputs), path, input_names=names, output_names=outputs, dynamic_axes=dynamic, opset_version=opset, do_constant_folding=True)


def check(path, module, inputs, names, tolerance, provider):
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=[provider, "CPUExecutionProvider"])
    with torch.no_grad():
        want = module(*inputs).float().cpu().numpy()
    got = sess.run(None, {n: i.cpu().numpy() for n, i in zip(names, inputs)})[0].astype(np.float32)
    err = float(np.max(np.abs(got - want)) / (np.max(np.abs(want)) + 1e-6))
    print(f"  {os.path.basename(path)}: relative max error {err:.2e} on {sess.get_providers()[0]}")
    if not err <= tolerance:
        sys.exit(f"{path}: ONNX Runtime and PyTorch disagree (relative max error {err:.2e} > {tolerance}); not writing the manifest")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sonic", required=True, help="the Sonic repository, with checkpoints/ as its README lays out")
    ap.add_argument("--out", required=True, help="folder to write (then copy it to sonic.weights_dir on the server)")
    ap.add_argument("--fp16", action="store_true", help="export in float16 (inputs and outputs float16)")
    ap.add_argument("--size", type=int, default=512, help="portrait crop side used for the example inputs (multiple of 64)")
    ap.add_argument("--window", type=int, default=25, help="example window length (F is dynamic in the UNet)")
    ap.add_argument("--decode-frames", type=int, default=8, help="frames per VAE decode (fixed: set sonic.decode_chunk_frames to it)")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--tolerance", type=float, default=2e-2, help="relative max error allowed between ONNX Runtime and PyTorch")
    a = ap.parse_args()
    if a.size % 64:
        sys.exit("--size must be a multiple of 64")
    if not torch.cuda.is_available():
        sys.exit("no CUDA device: export on a GPU host (the UNet does not fit a CPU export in reasonable time)")
    device, dtype = "cuda", torch.float16 if a.fp16 else torch.float32
    os.makedirs(a.out, exist_ok=True)
    m = load(os.path.abspath(a.sonic), device, dtype)
    h = w = a.size // 8
    F = a.window
    r = lambda *s: torch.randn(*s, device=device, dtype=dtype)
    provider = "CUDAExecutionProvider"
    jobs = [
        ("audio_encoder.onnx", AudioEncoder(m["whisper"]), [r(1, 80, 3000)], ["input_features"], ["hidden_states"], {"input_features": {0: "B"}, "hidden_states": {0: "B"}}),
        ("audio2token.onnx", AudioToToken(m["a2t"]), [r(F, 10, WHISPER_LAYERS, WHISPER_WIDTH)], ["audio_window"], ["tokens"], {"audio_window": {0: "B"}, "tokens": {0: "B"}}),
        ("audio2bucket.onnx", AudioToBucket(m["a2b"]), [r(F, 50, 1, WHISPER_WIDTH), r(F, D_WIDTH)], ["audio_window", "image_embeds"], ["motion_bucket"], {"audio_window": {0: "B"}, "image_embeds": {0: "B"}, "motion_bucket": {0: "B"}}),
        ("image_encoder.onnx", ImageEncoder(m["clip"]), [r(1, 3, 224, 224)], ["pixel_values"], ["image_embeds"], {"pixel_values": {0: "B"}, "image_embeds": {0: "B"}}),
        ("vae_encoder.onnx", VaeEncoder(m["vae"]), [r(1, 3, a.size, a.size)], ["image"], ["latent"], {"image": {0: "B", 2: "H", 3: "W"}, "latent": {0: "B", 2: "h", 3: "w"}}),
        ("unet.onnx", Unet(m["unet"]), [r(3, F, 8, h, w), r(3), r(3, 1, D_WIDTH), r(3, F, T_TOKENS, D_WIDTH), torch.tensor([[11.5, 127.0, 0.02]] * 3, device=device, dtype=dtype)],
         ["sample", "timestep", "encoder_hidden_states", "audio_tokens", "added_time_ids"], ["noise_pred"],
         {"sample": {1: "F", 3: "h", 4: "w"}, "audio_tokens": {1: "F"}, "noise_pred": {1: "F", 3: "h", 4: "w"}}),
        ("vae_decoder.onnx", VaeDecoder(m["vae"], a.decode_frames), [r(a.decode_frames, 4, h, w)], ["latents"], ["frames"], {"latents": {2: "h", 3: "w"}, "frames": {2: "H", 3: "W"}}),
    ]
    files = {}
    for name, module, inputs, names, outputs, dynamic in jobs:
        path = os.path.join(a.out, name)
        print(f"exporting {name} ...", flush=True)
        with torch.no_grad():
            export(module, inputs, names, outputs, dynamic, path, a.opset)
        check(path, module, inputs, names, a.tolerance, provider)
        files[name] = sha256(path)
    manifest = {"format": "sonic-onnx/1", "precision": "fp16" if a.fp16 else "fp32", "files": files,
                "producer": f"models/sonic/export/export_sonic.py (decode frames {a.decode_frames}, opset {a.opset})"}
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {a.out}: copy it to the server's sonic.weights_dir and set sonic.decode_chunk_frames to {a.decode_frames}")


if __name__ == "__main__":
    main()
