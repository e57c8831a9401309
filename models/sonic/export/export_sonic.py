#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Export Sonic's sub-models to ONNX with the contract of models/sonic/contract.ts, from the official
Sonic repository and its checkpoints (CC BY-NC-SA 4.0: they stay on your hosts).

    python3 export_sonic.py --sonic /path/to/Sonic --out /path/to/weights [--fp16] [--width 512 --height 512]

Writes audio_encoder.onnx, audio2token.onnx, audio2bucket.onnx, image_encoder.onnx, vae_encoder.onnx,
unet.onnx (+ unet.onnx.data when over 2 GB), vae_decoder.onnx, interpolator.onnx (RIFE) and
manifest.json (SHA-256 of every file, the widths, the frame size). Each graph is checked after
export: ONNX Runtime against PyTorch on the same inputs at two shapes (--tolerance), or the script
stops and says which one differs.

How each graph calls the official modules (read src/pipelines/pipeline_sonic.py and sonic.py):
  unet          encoder_hidden_states=(CLIP embedding per frame, [audio tokens per frame]) and
                cross_attention_kwargs={'ip_adapter_masks': [face mask]}: the IP-adapter attention
                processors split the pair in every attn2 layer; the temporal blocks average the
                audio tokens over the window; the mask keeps audio attention on the face.
  audio2bucket  Audio2bucketModel(output_dim=1, context_tokens=2): two values per frame, x 16 + 16;
                the runner averages a window's and sends [fps 12.5, bucket 0, bucket 1] as time ids.
  vae_decoder   the temporal decoder with the frame count taken from the input (chunks of any size).
  interpolator  RIFE's IFNet (HDv3), the middle frame between two, as Sonic makes 25 fps from 12.5.

The face mask's resampling inside the UNet and RIFE's sampling grid are fixed at export: the graphs
serve one frame size (--width x --height, the manifest says which); export again for another.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

TWO_GB = 2 * 1024**3 - 64 * 1024**2


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class AudioEncoder(torch.nn.Module):
    """whisper encoder: every hidden state (embedding output, each layer; the last after the final norm) -> [B, 1500, L, A]"""

    def __init__(self, whisper):
        super().__init__()
        self.encoder = whisper.encoder

    def forward(self, input_features):
        return torch.stack(self.encoder(input_features, output_hidden_states=True).hidden_states, dim=2)


class AudioToToken(torch.nn.Module):
    """[N, 10, L, A] (one window per generated frame) -> [N, T, D]; the reference calls it per frame as [1, 1, 10, L, A]"""

    def __init__(self, proj):
        super().__init__()
        self.proj = proj

    def forward(self, audio_window):
        return self.proj(audio_window.unsqueeze(0)).squeeze(0)


class AudioToBucket(torch.nn.Module):
    """[N, 50, 1, A] last hidden state + [N, D] -> [N, C] motion buckets (C = context_tokens = 2), x 16 + 16 folded in"""

    def __init__(self, bucket):
        super().__init__()
        self.bucket = bucket

    def forward(self, audio_window, image_embeds):
        out = self.bucket(audio_window.unsqueeze(1), image_embeds)  # [N, 1, C, 1]
        return out.reshape(audio_window.shape[0], -1) * 16 + 16


class ImageEncoder(torch.nn.Module):
    def __init__(self, clip):
        super().__init__()
        self.clip = clip

    def forward(self, pixel_values):
        return self.clip(pixel_values).image_embeds


class VaeEncoder(torch.nn.Module):
    """the latent's mean (= its mode): x 0.18215 it is the start latent, as is the image condition"""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, image):
        return self.vae.encode(image).latent_dist.mean


class VaeDecoder(torch.nn.Module):
    """latents already divided by the scaling factor (the runner does it), [F, 4, h, w] -> [F, 3, H, W]; F from the input"""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latents):
        return self.vae.decode(latents, num_frames=latents.shape[0]).sample


class Unet(torch.nn.Module):
    """
    sample [B, F, 8, h, w], timestep [B], encoder_hidden_states [B, 1, D], audio_tokens [B, F, T, D],
    face_mask [1, 1, H, W], added_time_ids [B, 3] -> v-prediction [B, F, 4, h, w]. As SonicPipeline
    calls it: the CLIP embedding repeated per frame and the tokens flattened to [B*F, ...].
    """

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states, audio_tokens, face_mask, added_time_ids):
        frames = sample.shape[1]
        clip = encoder_hidden_states.unsqueeze(1).repeat(1, frames, 1, 1).flatten(0, 1)
        tokens = audio_tokens.flatten(0, 1)
        return self.unet(sample, timestep, encoder_hidden_states=(clip, [tokens]), cross_attention_kwargs={"ip_adapter_masks": [face_mask]},
                         added_time_ids=added_time_ids, return_dict=False)[0]


class Interpolator(torch.nn.Module):
    """RIFE IFNet HDv3: frames [B, 3, H, W] in [0, 1] -> the middle frame, clamped to [0, 1] (as Sonic.process)"""

    def __init__(self, flownet):
        super().__init__()
        self.flownet = flownet

    def forward(self, frame0, frame1):
        _, _, merged = self.flownet(torch.cat((frame0, frame1), 1), [4, 2, 1])
        return merged[2].clamp(0, 1)


def pretrained(cls, folder, **kw):
    """The official loads the SVD parts with variant fp16; a release without that variant loads plainly."""
    try:
        return cls.from_pretrained(folder, variant="fp16", **kw)
    except (OSError, ValueError):
        return cls.from_pretrained(folder, **kw)


class Checkpoints:
    """
    The official checkpoints folder, read lazily: the widths come from the configs and the small
    adapter checkpoints; each module is loaded when first asked for (a full-size UNet export then
    holds the UNet alone), torch.load memory-maps the large files.
    """

    def __init__(self, sonic_dir, ck, device, dtype, ip_scale):
        sys.path.insert(0, sonic_dir)
        from transformers import CLIPVisionConfig, WhisperConfig

        self.ck, self.device, self.dtype, self.ip_scale = ck, device, dtype, ip_scale
        self.svd = os.path.join(ck, "stable-video-diffusion-img2vid-xt")
        w = WhisperConfig.from_pretrained(os.path.join(ck, "whisper-tiny"))
        L, A = w.encoder_layers + 1, w.d_model
        D = CLIPVisionConfig.from_pretrained(os.path.join(self.svd, "image_encoder")).projection_dim
        # the adapters' widths from their checkpoints (sonic.py: 10 x 5 x 384 -> 32 x 1024; 50 x 1 x 384 + 1024 -> 2 x 1)
        self.t_sd = torch.load(os.path.join(ck, "Sonic", "audio2token.pth"), map_location="cpu")
        self.b_sd = torch.load(os.path.join(ck, "Sonic", "audio2bucket.pth"), map_location="cpu")
        T = self.t_sd["proj3.weight"].shape[0] // D
        C = self.b_sd["proj3.weight"].shape[0]
        self.dims = {"L": L, "A": A, "T": T, "D": D, "C": C}
        self.mods = {}

    def __getitem__(self, key):
        if key not in self.mods:
            m = self._load(key)
            m.to(device=self.device, dtype=self.dtype).eval().requires_grad_(False)
            self.mods[key] = m
        return self.mods[key]

    def release(self, key):
        self.mods.pop(key, None)

    def _load(self, key):
        from diffusers import AutoencoderKLTemporalDecoder
        from transformers import CLIPVisionModelWithProjection, WhisperModel
        from src.models.audio_adapter.audio_proj import AudioProjModel
        from src.models.audio_adapter.audio_to_bucket import Audio2bucketModel
        from src.models.base.unet_spatio_temporal_condition import UNetSpatioTemporalConditionModel, add_ip_adapters
        from src.utils.RIFE.IFNet_HDv3 import IFNet

        d, ck = self.dims, self.ck
        if key == "whisper":
            return WhisperModel.from_pretrained(os.path.join(ck, "whisper-tiny"))
        if key == "clip":
            return pretrained(CLIPVisionModelWithProjection, self.svd, subfolder="image_encoder")
        if key == "a2t":
            m = AudioProjModel(seq_len=10, blocks=d["L"], channels=d["A"], intermediate_dim=self.t_sd["proj1.weight"].shape[0], output_dim=d["D"], context_tokens=d["T"])
            m.load_state_dict(self.t_sd, strict=True)
            return m
        if key == "a2b":
            m = Audio2bucketModel(seq_len=50, blocks=1, channels=d["A"], clip_channels=d["D"], intermediate_dim=self.b_sd["proj1.weight"].shape[0], output_dim=1, context_tokens=d["C"])
            m.load_state_dict(self.b_sd, strict=True)
            return m
        if key == "vae":
            return pretrained(AutoencoderKLTemporalDecoder, self.svd, subfolder="vae")
        if key == "unet":
            unet = pretrained(UNetSpatioTemporalConditionModel, self.svd, subfolder="unet")
            add_ip_adapters(unet, [d["T"]], [self.ip_scale])
            unet.load_state_dict(torch.load(os.path.join(ck, "Sonic", "unet.pth"), map_location="cpu", mmap=True), strict=True)
            return unet
        if key == "rife":
            rife = IFNet()
            sd = torch.load(os.path.join(ck, "RIFE", "flownet.pkl"), map_location="cpu")
            rife.load_state_dict({k.replace("module.", ""): v for k, v in sd.items() if "module." in k})
            return rife
        raise KeyError(key)


def load(sonic_dir, ck, device, dtype, ip_scale):
    """Every module at once (the parity harness runs the official pipeline on them): (dict, dims)."""
    c = Checkpoints(sonic_dir, ck, device, dtype, ip_scale)
    return {k: c[k] for k in ("whisper", "a2t", "a2b", "clip", "vae", "unet", "rife")}, c.dims


def export(module, inputs, names, outputs, dynamic, path, opset):
    # constant folding keeps a second copy of the weights while it works: not for the 1.5 B UNet
    # (6 GB in FP32), whose export would need three copies at once
    large = sum(p.numel() for p in module.parameters()) > 500_000_000
    kw = dict(input_names=names, output_names=outputs, dynamic_axes=dynamic, opset_version=opset, do_constant_folding=not large)
    if "dynamo" in torch.onnx.export.__code__.co_varnames:
        kw["dynamo"] = False  # the TorchScript exporter: the graphs rely on its traced shapes
    tmp = tempfile.mkdtemp(dir=os.path.dirname(path))
    try:
        torch.onnx.export(module, tuple(inputs), os.path.join(tmp, "model.onnx"), **kw)
        size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
        if size < TWO_GB and len(os.listdir(tmp)) == 1:
            shutil.move(os.path.join(tmp, "model.onnx"), path)
            return [os.path.basename(path)]
        # over 2 GB: torch writes one file per tensor; gather them into one external-data file beside it
        import onnx

        model = onnx.load(os.path.join(tmp, "model.onnx"), load_external_data=True)
        data = os.path.basename(path) + ".data"
        if os.path.exists(os.path.join(os.path.dirname(path), data)):
            os.remove(os.path.join(os.path.dirname(path), data))
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=data, size_threshold=1024)
        return [os.path.basename(path), data]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check(path, module, shapes, names, tolerance, providers):
    """ONNX Runtime against PyTorch at every input set in `shapes` (at least two shapes: dynamic axes really dynamic)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(path, providers=providers)
    worst = 0.0
    for inputs in shapes:
        with torch.no_grad():
            want = module(*inputs).float().cpu().numpy()
        got = sess.run(None, {n: i.cpu().numpy() for n, i in zip(names, inputs)})[0].astype(np.float32)
        if got.shape != want.shape:
            sys.exit(f"{path}: ONNX Runtime gives shape {got.shape}, PyTorch {want.shape} (inputs {[tuple(i.shape) for i in inputs]})")
        err = float(np.max(np.abs(got - want)) / (np.max(np.abs(want)) + 1e-6))
        worst = max(worst, err)
        if not err <= tolerance:
            sys.exit(f"{path}: ONNX Runtime and PyTorch disagree at inputs {[tuple(i.shape) for i in inputs]} "
                     f"(relative max error {err:.2e} > {tolerance}); not writing the manifest")
    print(f"  {os.path.basename(path)}: relative max error {worst:.2e} over {len(shapes)} shapes on {sess.get_providers()[0]}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sonic", required=True, help="the official Sonic repository (its src/ is imported)")
    ap.add_argument("--checkpoints", help="its checkpoints folder (default: <sonic>/checkpoints)")
    ap.add_argument("--out", required=True, help="folder to write (then copy it to sonic.weights_dir on the server)")
    ap.add_argument("--fp16", action="store_true", help="export in float16 (inputs and outputs float16)")
    ap.add_argument("--width", type=int, default=512, help="frame width the graphs serve (multiple of 64)")
    ap.add_argument("--height", type=int, default=512, help="frame height the graphs serve (multiple of 64)")
    ap.add_argument("--window", type=int, default=25, help="window length for the example inputs (F is dynamic; checked at this and half of it)")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--tolerance", type=float, default=2e-2, help="relative max error allowed between ONNX Runtime and PyTorch")
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--ip-audio-scale", type=float, default=1.0, help="config/inference/sonic.yaml ip_audio_scale")
    ap.add_argument("--only", help="comma-separated file names to export (default: all)")
    a = ap.parse_args()
    if a.width % 64 or a.height % 64:
        sys.exit("--width and --height must be multiples of 64")
    if a.fp16 and a.device != "cuda":
        sys.exit("--fp16 needs --device cuda (float16 kernels)")
    torch.manual_seed(0)
    device, dtype = a.device, torch.float16 if a.fp16 else torch.float32
    os.makedirs(a.out, exist_ok=True)
    ck = a.checkpoints or os.path.join(a.sonic, "checkpoints")
    m = Checkpoints(os.path.abspath(a.sonic), ck, device, dtype, a.ip_audio_scale)
    dims = m.dims
    L, A, T, D, C = (dims[k] for k in "LATDC")
    H, W = a.height, a.width
    h, w = H // 8, W // 8
    F, F2 = a.window, max(1, a.window // 2)
    r = lambda *s: torch.randn(*s, device=device, dtype=dtype)
    u = lambda *s: torch.rand(*s, device=device, dtype=dtype)

    def mask():
        x = torch.zeros(1, 1, H, W, device=device, dtype=dtype)
        x[..., H // 5 : H * 4 // 5, W // 4 : W * 3 // 4] = 1
        return x

    def unet_in(f):
        ids = torch.tensor([[12.5, 40.0, 60.0]] * 3, device=device, dtype=dtype)
        return [r(3, f, 8, h, w), torch.full((3,), 0.25 * np.log(20.0), device=device, dtype=dtype), r(3, 1, D), r(3, f, T, D), mask(), ids]

    providers = (["CUDAExecutionProvider"] if device == "cuda" else []) + ["CPUExecutionProvider"]
    jobs = [
        ("audio_encoder.onnx", (lambda: AudioEncoder(m["whisper"]), "whisper"), [[r(1, 80, 3000)], [r(2, 80, 3000)]], ["input_features"], ["hidden_states"],
         {"input_features": {0: "B"}, "hidden_states": {0: "B"}}),
        ("audio2token.onnx", (lambda: AudioToToken(m["a2t"]), "a2t"), [[r(F, 10, L, A)], [r(3, 10, L, A)]], ["audio_window"], ["tokens"], {"audio_window": {0: "B"}, "tokens": {0: "B"}}),
        ("audio2bucket.onnx", (lambda: AudioToBucket(m["a2b"]), "a2b"), [[r(F, 50, 1, A), r(F, D)], [r(3, 50, 1, A), r(3, D)]], ["audio_window", "image_embeds"], ["motion_bucket"],
         {"audio_window": {0: "B"}, "image_embeds": {0: "B"}, "motion_bucket": {0: "B"}}),
        ("image_encoder.onnx", (lambda: ImageEncoder(m["clip"]), "clip"), [[r(1, 3, 224, 224)], [r(2, 3, 224, 224)]], ["pixel_values"], ["image_embeds"],
         {"pixel_values": {0: "B"}, "image_embeds": {0: "B"}}),
        ("vae_encoder.onnx", (lambda: VaeEncoder(m["vae"]), "vae"), [[u(1, 3, H, W) * 2 - 1], [u(2, 3, H, W) * 2 - 1]], ["image"], ["latent"], {"image": {0: "B"}, "latent": {0: "B"}}),
        ("unet.onnx", (lambda: Unet(m["unet"]), "unet"), [unet_in(F), unet_in(F2)], ["sample", "timestep", "encoder_hidden_states", "audio_tokens", "face_mask", "added_time_ids"],
         ["noise_pred"], {"sample": {1: "F"}, "audio_tokens": {1: "F"}, "noise_pred": {1: "F"}}),
        ("vae_decoder.onnx", (lambda: VaeDecoder(m["vae"]), "vae"), [[r(8, 4, h, w)], [r(5, 4, h, w)]], ["latents"], ["frames"], {"latents": {0: "F"}, "frames": {0: "F"}}),
        ("interpolator.onnx", (lambda: Interpolator(m["rife"]), "rife"), [[u(1, 3, H, W), u(1, 3, H, W)], [u(2, 3, H, W), u(2, 3, H, W)]], ["frame0", "frame1"], ["middle"],
         {"frame0": {0: "B"}, "frame1": {0: "B"}, "middle": {0: "B"}}),
    ]
    only = set(a.only.split(",")) if a.only else None
    files = {}
    for name, (make, key), shapes, names, outputs, dynamic in jobs:
        if only and name not in only:
            continue
        path = os.path.join(a.out, name)
        print(f"exporting {name} ...", flush=True)
        module = make()
        with torch.no_grad():
            written = export(module, shapes[0], names, outputs, dynamic, path, a.opset)
        check(path, module, shapes, names, a.tolerance, providers)
        for f in written:
            files[f] = sha256(os.path.join(a.out, f))
        if key in ("unet", "clip"):  # the large ones: not kept once exported
            del module
            m.release(key)
    if only:
        print(f"exported {', '.join(sorted(files))} (no manifest with --only)")
        return
    manifest = {"format": "sonic-onnx/2", "precision": "fp16" if a.fp16 else "fp32", "files": files, "dims": dims,
                "frame": {"width": W, "height": H},
                "producer": f"models/sonic/export/export_sonic.py (opset {a.opset}, ip_audio_scale {a.ip_audio_scale})"}
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {a.out}: copy the whole folder to the server's sonic.weights_dir")


if __name__ == "__main__":
    main()
