# SPDX-License-Identifier: GPL-3.0-or-later
"""
A Sonic checkpoint folder with the official architecture at small sizes (or at full size) and random
weights from a seed, laid out as the official release lays out its checkpoints/ folder:

    <out>/checkpoints/stable-video-diffusion-img2vid-xt/{unet,vae,image_encoder,scheduler}/
    <out>/checkpoints/Sonic/{unet.pth,audio2token.pth,audio2bucket.pth}
    <out>/checkpoints/whisper-tiny/            (config, weights, preprocessor_config.json)
    <out>/checkpoints/RIFE/flownet.pkl

The module classes come from the official repository (--sonic-src, a checkout the user supplies;
nothing of it is copied here), from diffusers and from transformers. These weights are noise: they
exist so that the exporter and the project's runner can be compared with the official pipeline on
the real architecture. They make no picture worth looking at.

    python tiny_sonic.py --sonic-src DIR --out DIR [--size tiny|full] [--seed 7]
"""
import argparse
import json
import math
import os
import sys

import torch

# SVD-xt's scheduler (stabilityai/stable-video-diffusion-img2vid-xt, scheduler/scheduler_config.json)
SVD_XT_SCHEDULER = {
    "_class_name": "EulerDiscreteScheduler",
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "rescale_betas_zero_snr": False,
    "set_alpha_to_one": False,
    "sigma_max": 700.0,
    "sigma_min": 0.002,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "timestep_type": "continuous",
    "trained_betas": None,
    "use_karras_sigmas": True,
}

# Widths: D (CLIP projection = UNet cross-attention width), T audio tokens, whisper d_model A and layers.
SIZES = {
    "tiny": dict(
        D=64, T=8, whisper=dict(d_model=64, encoder_layers=2, heads=2, ffn=128), proj_hidden=128,
        unet=dict(block_out_channels=(32, 32, 64, 64), num_attention_heads=(2, 2, 4, 4), layers_per_block=1, addition_time_embed_dim=8),
        vae=dict(block_out_channels=(32, 32, 32, 32), layers_per_block=1),
        clip=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2, patch_size=32),
    ),
    # Sonic's own sizes (SVD-xt UNet, 1.5 B parameters; whisper-tiny; CLIP ViT-H/14)
    "full": dict(
        D=1024, T=32, whisper=dict(d_model=384, encoder_layers=4, heads=6, ffn=1536), proj_hidden=1024,
        unet=dict(block_out_channels=(320, 640, 1280, 1280), num_attention_heads=(5, 10, 20, 20), layers_per_block=2, addition_time_embed_dim=256),
        vae=dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2),
        clip=dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16, patch_size=14),
    ),
}


def randomize(module, gen, gain=1.0):
    """Every parameter drawn again from the seed: weights ~ N(0, gain / fan_in), biases small, norms near 1."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) * math.sqrt(gain / fan_in))
            elif name.endswith("weight") and ("norm" in name or "ln" in name or "layer_norm" in name):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.02 * torch.randn(p.shape, generator=gen))
    return module


def make_modules(sonic_src, size, seed, base_unet_dir=None):
    """
    The official modules at `size` with seeded random weights, in memory: dict of the parts and the
    widths. base_unet_dir: where to save the UNet as the SVD release has it, before Sonic's audio
    attention goes on (the 1.5 B full-size UNet is not kept twice in memory).
    """
    sys.path.insert(0, sonic_src)
    from diffusers import AutoencoderKLTemporalDecoder
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection, WhisperConfig, WhisperModel
    from src.models.audio_adapter.audio_proj import AudioProjModel
    from src.models.audio_adapter.audio_to_bucket import Audio2bucketModel
    from src.models.base.unet_spatio_temporal_condition import UNetSpatioTemporalConditionModel, add_ip_adapters
    from src.utils.RIFE.IFNet_HDv3 import IFNet

    s = SIZES[size]
    gen = torch.Generator().manual_seed(seed)
    D, T = s["D"], s["T"]
    w = s["whisper"]
    L, A = w["encoder_layers"] + 1, w["d_model"]
    whisper = WhisperModel(WhisperConfig(
        d_model=A, encoder_layers=w["encoder_layers"], decoder_layers=1, encoder_attention_heads=w["heads"], decoder_attention_heads=w["heads"],
        encoder_ffn_dim=w["ffn"], decoder_ffn_dim=w["ffn"], num_mel_bins=80, max_source_positions=1500, max_target_positions=64, vocab_size=128,
        pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1, begin_suppress_tokens=None, suppress_tokens=None))
    randomize(whisper, gen)
    c = s["clip"]
    clip = randomize(CLIPVisionModelWithProjection(CLIPVisionConfig(image_size=224, projection_dim=D, **c)), gen)
    v = s["vae"]
    vae = randomize(AutoencoderKLTemporalDecoder(block_out_channels=v["block_out_channels"], layers_per_block=v["layers_per_block"],
                                                 down_block_types=("DownEncoderBlock2D",) * len(v["block_out_channels"]), latent_channels=4), gen, gain=0.5)
    u = s["unet"]
    unet = UNetSpatioTemporalConditionModel(
        block_out_channels=u["block_out_channels"], num_attention_heads=u["num_attention_heads"], layers_per_block=u["layers_per_block"],
        cross_attention_dim=D, addition_time_embed_dim=u["addition_time_embed_dim"], projection_class_embeddings_input_dim=3 * u["addition_time_embed_dim"])
    randomize(unet, gen, gain=0.5)
    if base_unet_dir:
        unet.save_pretrained(base_unet_dir, variant="fp16")
    # Sonic's audio attention on top of the SVD UNet (its own unet.pth)
    add_ip_adapters(unet, [T], [1.0])
    randomize(unet, gen, gain=0.5)
    a2t = randomize(AudioProjModel(seq_len=10, blocks=L, channels=A, intermediate_dim=s["proj_hidden"], output_dim=D, context_tokens=T), gen)
    a2b = randomize(Audio2bucketModel(seq_len=50, blocks=1, channels=A, clip_channels=D, intermediate_dim=s["proj_hidden"], output_dim=1, context_tokens=2), gen)
    rife = randomize(IFNet(), gen, gain=0.5)
    mods = dict(whisper=whisper, clip=clip, vae=vae, unet=unet, a2t=a2t, a2b=a2b, rife=rife)
    return mods, {"L": L, "A": A, "T": T, "D": D, "C": 2}


def build(sonic_src, out, size, seed):
    from transformers import WhisperFeatureExtractor

    ck = os.path.join(out, "checkpoints")
    svd = os.path.join(ck, "stable-video-diffusion-img2vid-xt")
    mods, dims = make_modules(sonic_src, size, seed, base_unet_dir=os.path.join(svd, "unet"))
    mods["whisper"].save_pretrained(os.path.join(ck, "whisper-tiny"))
    WhisperFeatureExtractor().save_pretrained(os.path.join(ck, "whisper-tiny"))
    mods["clip"].save_pretrained(os.path.join(svd, "image_encoder"), variant="fp16")
    mods["vae"].save_pretrained(os.path.join(svd, "vae"), variant="fp16")
    unet = mods["unet"]
    os.makedirs(os.path.join(ck, "Sonic"), exist_ok=True)
    torch.save(unet.state_dict(), os.path.join(ck, "Sonic", "unet.pth"))
    torch.save(mods["a2t"].state_dict(), os.path.join(ck, "Sonic", "audio2token.pth"))
    torch.save(mods["a2b"].state_dict(), os.path.join(ck, "Sonic", "audio2bucket.pth"))
    os.makedirs(os.path.join(ck, "RIFE"), exist_ok=True)
    torch.save({"module." + k: t for k, t in mods["rife"].state_dict().items()}, os.path.join(ck, "RIFE", "flownet.pkl"))
    os.makedirs(os.path.join(svd, "scheduler"), exist_ok=True)
    with open(os.path.join(svd, "scheduler", "scheduler_config.json"), "w") as f:
        json.dump(SVD_XT_SCHEDULER, f, indent=2)
    info = {"size": size, "seed": seed, "dims": dims}
    with open(os.path.join(out, "tiny_sonic.json"), "w") as f:
        json.dump(info, f, indent=2)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sonic-src", required=True, help="a checkout of the official Sonic repository (read, never copied)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    info = build(os.path.abspath(a.sonic_src), a.out, a.size, a.seed)
    print(f"tiny_sonic: {a.size} checkpoints in {a.out}/checkpoints, dims {info['dims']}")


if __name__ == "__main__":
    main()
