//! How a network's arithmetic runs: bf16 mixed precision on the CPU (PyTorch's
//! `torch.autocast("cpu", dtype=torch.bfloat16)`: fp32 weights and optimizer state, matrix
//! products and convolutions in bf16) and the channels-last memory format for conv nets.
//!
//! tch does not reach CPU autocast, so a C++ shim (`csrc/autocast.cpp`, built by build.rs)
//! turns libtorch's own dispatcher mode on and off: the same casts, the same kernels as PyTorch.
use crate::device::cpuinfo_field;
use serde::{Deserialize, Serialize};
use tch::{nn::ModuleT, Device, Kind, Tensor};

extern "C" {
    fn affect_cpu_autocast_enter() -> i32;
    fn affect_cpu_autocast_exit(was: i32);
    fn affect_flush_denormals(on: i32) -> i32;
}

/// What a row asks for. bf16 is taken only where the CPU has bf16 units ([`Numerics::resolve`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numerics {
    /// Activations in NHWC order (4-D inputs only), which oneDNN's convolutions run fastest on.
    #[serde(default)]
    pub channels_last: bool,
    /// bf16 mixed precision under CPU autocast.
    #[serde(default)]
    pub bf16: bool,
}

impl Numerics {
    pub const FP32: Numerics = Numerics { channels_last: false, bf16: false };
    /// How a face network scores one image at a time: `predict`, and Part 1's latency pass, which
    /// times what `predict` runs.
    pub const SINGLE_IMAGES: Numerics = Numerics { channels_last: true, bf16: false };
    /// fp32, channels-last, bf16 and both.
    pub const ALL: [Numerics; 4] = [
        Numerics::FP32,
        Numerics { channels_last: true, bf16: false },
        Numerics { channels_last: false, bf16: true },
        Numerics { channels_last: true, bf16: true },
    ];

    /// What runs on `device` when `self` is asked for, and why where it differs: bf16 needs a CPU
    /// where it trains faster than fp32 ([`cpu_has_bf16_units`]), and autocast here is the CPU's;
    /// other devices run fp32.
    pub fn resolve(self, device: Device) -> (Numerics, Option<String>) {
        if !self.bf16 {
            return (self, None);
        }
        let why = match device {
            Device::Cpu if cpu_has_bf16_units() => return (self, None),
            Device::Cpu => "this CPU has neither AMX-BF16 tiles nor AMD's AVX512-BF16, without which bf16 trains \
                            slower than fp32"
                .to_string(),
            other => format!("bf16 autocast is implemented for the CPU only, not {other:?}"),
        };
        (Numerics { bf16: false, ..self }, Some(format!("bf16 asked for, fp32 used: {why}")))
    }

    /// The inverse of [`Numerics::label`].
    pub fn parse(label: &str) -> crate::error::Result<Numerics> {
        Numerics::ALL.into_iter().find(|n| n.label() == label.trim()).ok_or_else(|| {
            crate::error::Error::Config(format!("unknown numerics `{label}` (fp32, fp32+cl, bf16, bf16+cl)"))
        })
    }

    /// One word for logs and tables: `fp32`, `fp32+cl`, `bf16`, `bf16+cl`.
    pub fn label(&self) -> String {
        let p = if self.bf16 { "bf16" } else { "fp32" };
        if self.channels_last {
            format!("{p}+cl")
        } else {
            p.to_string()
        }
    }

    /// `f` under these numerics: autocast on around it when `bf16`.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        if !self.bf16 {
            return f();
        }
        let _guard = Autocast::enter();
        f()
    }

    /// `vs`'s convolution weights in the memory format these numerics want, as PyTorch's recipe has
    /// it (`model.to(memory_format=torch.channels_last)`), for a model that only runs inference:
    /// with the input alone channels-last, batch-1 inference took ResNet18 1.7x longer than with
    /// its weights converted too (docs/speed.md). Not for training: checkpoints are written from
    /// contiguous weights (safetensors takes no other strides).
    pub fn prepare_for_inference(&self, vs: &tch::nn::VarStore) {
        if !self.channels_last {
            return;
        }
        tch::no_grad(|| {
            for (_, mut w) in vs.variables().into_iter().filter(|(_, w)| w.dim() == 4) {
                w.set_data(&channels_last(&w));
            }
        });
    }

    /// An input batch in the memory format these numerics want (a batch already in it is not
    /// copied: image sources can hand out channels-last batches).
    pub fn input(&self, x: &Tensor) -> Tensor {
        match (self.channels_last, x.dim()) {
            (true, 4) => channels_last(x),
            // a channels-last batch given to an NCHW row would otherwise carry its format into
            // every convolution
            (false, 4) => x.contiguous(),
            _ => x.shallow_clone(),
        }
    }
}

/// Whether this CPU has bf16 units that make bf16 train faster than fp32, from /proc/cpuinfo
/// (false where it cannot be read): AMX-BF16 tiles, or AVX512-BF16 on an AMD CPU. The flag alone
/// does not decide it: with AVX512-BF16 and no AMX, an Intel Xeon trained every network slower in
/// bf16 than in fp32, while an AMD EPYC (Zen 4) trained ResNet18 and the EmotionNets 1.5-1.7x
/// faster in bf16+cl than in fp32+cl (docs/speed.md). oneDNN finds the units itself; this only
/// decides whether to ask.
pub fn cpu_has_bf16_units() -> bool {
    std::fs::read_to_string("/proc/cpuinfo").map(|s| bf16_pays(&s)).unwrap_or(false)
}

fn bf16_pays(cpuinfo: &str) -> bool {
    let flags: Vec<&str> = cpuinfo_field(cpuinfo, "flags").map(|f| f.split_whitespace().collect()).unwrap_or_default();
    let amd = cpuinfo_field(cpuinfo, "vendor_id") == Some("AuthenticAMD");
    flags.contains(&"amx_bf16") || (amd && flags.contains(&"avx512_bf16"))
}

/// Denormal floats (magnitudes below 1.2e-38) read and written as zero by the CPU, on the calling
/// thread and on libtorch's intra-op threads: `torch.set_flush_denormal(True)` reaches only the
/// caller. A saturated attention softmax is full of them, and the CPU takes a slow path for each
/// one: EmotionNetV2's batched matrix products made its inference 2-3x slower than PyTorch's
/// (docs/speed.md). Returns whether every thread took the setting.
pub fn flush_denormals(on: bool) -> bool {
    // SAFETY: the shim only sets the MXCSR flags of libtorch's threads; it catches C++ exceptions.
    unsafe { affect_flush_denormals(i32::from(on)) == 1 }
}

/// The same NCHW tensor with NHWC strides (PyTorch's `torch.channels_last`).
pub fn channels_last(x: &Tensor) -> Tensor {
    x.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

/// CPU autocast on for the calling thread until dropped (restoring what was there before).
struct Autocast(i32);

impl Autocast {
    fn enter() -> Self {
        // SAFETY: the shim only flips libtorch's thread-local autocast state; it catches C++ exceptions.
        let was = unsafe { affect_cpu_autocast_enter() };
        assert!(was >= 0, "libtorch refused to enable CPU autocast");
        Autocast(was)
    }
}

impl Drop for Autocast {
    fn drop(&mut self) {
        // SAFETY: as above; restores the state `enter` saw.
        unsafe { affect_cpu_autocast_exit(self.0) }
    }
}

/// `model`'s forward pass under `numerics`: the input converted to its memory format, autocast
/// around the pass, the logits returned as fp32 (losses and metrics stay in full precision).
pub fn forward(model: &dyn ModuleT, x: &Tensor, train: bool, numerics: Numerics) -> Tensor {
    let x = numerics.input(x);
    numerics.run(|| model.forward_t(&x, train)).to_kind(Kind::Float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::{self, Module};

    #[test]
    fn flushed_denormals_read_as_zero_on_every_intra_op_thread() {
        // 1e-39 is a denormal f32; a million of them make libtorch split the product over its
        // threads. The first product starts those threads with the setting off, so a worker that
        // the switch then missed would leave its share non-zero.
        let x = Tensor::full([1 << 20], 1e-39, (Kind::Float, Device::Cpu));
        let nonzero = || (&x * 1.0).ne(0.0).sum(Kind::Int64).int64_value(&[]);
        assert_eq!(nonzero(), 1 << 20, "by default, denormals survive");
        assert!(flush_denormals(true));
        let flushed = nonzero();
        assert!(flush_denormals(false));
        assert_eq!(flushed, 0);
        assert_eq!(nonzero(), 1 << 20, "with the setting off again, denormals survive");
    }

    #[test]
    fn bf16_pays_with_amx_anywhere_and_with_avx512_bf16_on_amd_only() {
        let intel = "vendor_id\t: GenuineIntel\nmodel name: X\nflags\t\t: fpu avx512f";
        let amd = "vendor_id\t: AuthenticAMD\nmodel name: AMD EPYC\nflags\t\t: fpu avx512f";
        assert!(bf16_pays(&format!("{intel} amx_bf16 amx_tile\n")));
        assert!(!bf16_pays(&format!("{intel} avx512_bf16\n")), "AVX512-BF16 alone on Intel does not pay");
        assert!(bf16_pays(&format!("{amd} avx512_bf16\n")));
        assert!(!bf16_pays(&format!("{amd} avx512bw\n")), "AMD without AVX512-BF16");
        assert!(!bf16_pays(&format!("{amd} avx512_bf16x\n")), "whole flags only");
        assert!(!bf16_pays(&format!("{intel} avx512bw\nbugs\t\t: amx_bf16\n")), "the flags line only");
        assert!(!bf16_pays("flags : sse avx512_bf16\n"), "no vendor: not AMD");
        assert!(!bf16_pays(""));
    }

    #[test]
    fn autocast_runs_matrix_products_in_bf16_and_restores_fp32_after() {
        let vs = nn::VarStore::new(Device::Cpu);
        let lin = nn::linear(vs.root(), 8, 4, Default::default());
        let x = Tensor::randn([3, 8], (Kind::Float, Device::Cpu));
        let on = Numerics { bf16: true, channels_last: false };
        assert_eq!(on.run(|| lin.forward(&x)).kind(), Kind::BFloat16);
        assert_eq!(on.run(|| on.run(|| lin.forward(&x))).kind(), Kind::BFloat16, "nested");
        assert_eq!(lin.forward(&x).kind(), Kind::Float, "autocast is off again after the guard");
        assert_eq!(Numerics::FP32.run(|| lin.forward(&x)).kind(), Kind::Float);
    }

    #[test]
    fn channels_last_keeps_shape_and_values_with_nhwc_strides() {
        let x = Tensor::randn([2, 3, 4, 5], (Kind::Float, Device::Cpu));
        let y = channels_last(&x);
        assert_eq!(y.size(), x.size());
        assert_eq!(y.stride(), [60, 1, 15, 3]);
        assert!(y.equal(&x));
    }

    #[test]
    fn an_input_comes_out_in_the_asked_format_and_is_not_copied_when_already_in_it() {
        let nchw = Tensor::randn([2, 3, 4, 5], (Kind::Float, Device::Cpu));
        let nhwc = channels_last(&nchw);
        let cl = Numerics { channels_last: true, bf16: false };
        for (numerics, want) in [(cl, vec![60, 1, 15, 3]), (Numerics::FP32, vec![60, 20, 5, 1])] {
            for x in [&nchw, &nhwc] {
                let got = numerics.input(x);
                assert_eq!(got.stride(), want, "{} from strides {:?}", numerics.label(), x.stride());
                assert!(got.equal(&nchw));
                if x.stride() == want {
                    assert_eq!(got.data_ptr(), x.data_ptr(), "already in format: no copy");
                }
            }
        }
        let ids = Tensor::from_slice(&[1i64, 2, 3]);
        assert_eq!(cl.input(&ids).data_ptr(), ids.data_ptr(), "token ids pass through");
    }

    #[test]
    fn inference_weights_go_channels_last_with_the_same_outputs() {
        let cl = Numerics { channels_last: true, bf16: false };
        for numerics in [Numerics::FP32, cl] {
            let vs = nn::VarStore::new(Device::Cpu);
            let conv = nn::conv2d(vs.root() / "conv", 3, 4, 3, Default::default());
            let fc = nn::linear(vs.root() / "fc", 5, 2, Default::default());
            let x = Tensor::randn([2, 3, 7, 7], (Kind::Float, Device::Cpu));
            let before = tch::no_grad(|| conv.forward(&numerics.input(&x)));
            numerics.prepare_for_inference(&vs);
            // the layer's own handle sees the new strides, not only the store's
            let want = if numerics.channels_last { [27, 1, 9, 3] } else { [27, 9, 3, 1] };
            assert_eq!(conv.ws.stride(), want, "{}", numerics.label());
            assert_eq!(fc.ws.stride(), [5, 1], "2-D weights are left as they are");
            let after = tch::no_grad(|| conv.forward(&numerics.input(&x)));
            assert!(after.allclose(&before, 1e-5, 1e-6, false), "{}", numerics.label());
        }
    }

    #[test]
    fn bf16_falls_back_to_fp32_off_the_cpu_or_without_units_and_says_why() {
        let ask = Numerics { bf16: true, channels_last: true };
        let (used, why) = ask.resolve(Device::Cuda(0));
        assert_eq!(used, Numerics { bf16: false, channels_last: true });
        assert!(why.unwrap().contains("CPU only"));
        let (used, why) = ask.resolve(Device::Cpu);
        assert_eq!(used.bf16, cpu_has_bf16_units());
        assert_eq!(why.is_some(), !cpu_has_bf16_units());
        assert_eq!(Numerics::FP32.resolve(Device::Cpu), (Numerics::FP32, None));
        assert_eq!(used.label(), if used.bf16 { "bf16+cl" } else { "fp32+cl" });
        for n in Numerics::ALL {
            assert_eq!(Numerics::parse(&n.label()).unwrap(), n);
        }
        assert!(Numerics::parse("fp16").unwrap_err().to_string().contains("bf16+cl"));
    }
}
