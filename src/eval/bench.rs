//! Inference benchmarks: latency per image at a given batch size (warm-up, median of repeats),
//! and FLOPs per image counted by PyTorch's FlopCounterMode on a TorchScript trace of the model.
use crate::config::paths::in_project;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tch::{nn::ModuleT, CModule, Device, Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyConfig {
    pub warmup: usize,
    pub repeats: usize,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig { warmup: 3, repeats: 10 }
    }
}

fn sync(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Median milliseconds per image for eval-mode forward passes on `input` (`[B, ...]`).
pub fn latency_ms_per_item(model: &dyn ModuleT, input: &Tensor, cfg: LatencyConfig) -> f64 {
    let batch = input.size()[0].max(1) as f64;
    let device = input.device();
    let mut times = tch::no_grad(|| {
        for _ in 0..cfg.warmup {
            let _ = model.forward_t(input, false);
        }
        sync(device);
        (0..cfg.repeats.max(1))
            .map(|_| {
                let t = Instant::now();
                let _ = model.forward_t(input, false);
                sync(device);
                t.elapsed().as_secs_f64() * 1e3 / batch
            })
            .collect::<Vec<f64>>()
    });
    median(&mut times)
}

pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Random image input `[batch,3,size,size]` on `device`.
pub fn image_input(batch: i64, size: i64, device: Device) -> Tensor {
    Tensor::randn([batch, 3, size, size], (Kind::Float, device))
}

/// Trace `model` on `example` into a TorchScript file (CPU), e.g. for FLOP counting in PyTorch.
/// The model's VarStore must be frozen first: the tracer refuses weights that require grad.
pub fn trace(model: &dyn ModuleT, example: &Tensor, path: &Path) -> Result<()> {
    let m = tch::no_grad(|| {
        CModule::create_by_tracing("model", "forward", &[example.shallow_clone()], &mut |xs| {
            vec![model.forward_t(&xs[0], false)]
        })
    })?;
    crate::atomic::write_with(path, |tmp| m.save(tmp).map_err(Error::from))
}

/// What the reference script reports for a traced model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// FLOPs for one item (multiply-add counted as 2, PyTorch's convention).
    pub flops: Option<f64>,
    /// PyTorch latency of the equivalent eager torchvision model, where one exists, keyed by batch.
    #[serde(default)]
    pub pytorch_latency_ms: Vec<(i64, f64)>,
}

/// Count FLOPs (and optionally time the torchvision equivalent) with the project's Python.
/// Returns `Ok(None)` when the project-local Python is not installed.
pub fn reference(
    model: &dyn ModuleT,
    example: &Tensor,
    torchvision: Option<(&str, i64)>,
    batches: &[i64],
) -> Result<Option<Reference>> {
    let (Some(python), Some(script)) = (in_project(".venv/bin/python"), in_project("scripts/bench_reference.py"))
    else {
        return Ok(None);
    };
    if !python.is_file() {
        return Ok(None);
    }
    let dir = TempDir(std::env::temp_dir().join(format!("affect-lab-trace-{}", std::process::id())));
    let traced = dir.0.join("model.pt");
    trace(model, &example.to_device(Device::Cpu), &traced)?;
    let shape: Vec<String> = example.size().iter().map(|d| d.to_string()).collect();
    let mut cmd = std::process::Command::new(&python);
    cmd.arg(script)
        .arg("--traced")
        .arg(&traced)
        .arg("--shape")
        .arg(shape.join(","))
        .arg("--threads")
        .arg(tch::get_num_threads().to_string())
        .arg("--dtype")
        .arg(if example.kind() == Kind::Int64 { "long" } else { "float" });
    if let Some((name, classes)) = torchvision {
        let b: Vec<String> = batches.iter().map(|b| b.to_string()).collect();
        cmd.arg("--torchvision")
            .arg(name)
            .arg("--num-classes")
            .arg(classes.to_string())
            .arg("--batches")
            .arg(b.join(","));
    }
    let out = run_until(cmd, || crate::interrupt::requested().is_some()).map_err(|e| Error::io(&python, e))?;
    drop(dir);
    crate::interrupt::check()?;
    if !out.status.success() {
        return Err(Error::Config(format!("bench_reference.py failed: {}", String::from_utf8_lossy(&out.stderr))));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or("{}");
    serde_json::from_str(last)
        .map(Some)
        .map_err(|e| Error::Json { path: "bench_reference.py stdout".into(), source: e })
}

/// A folder removed when dropped, on every path out (errors and interrupts included).
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run `cmd` to completion, or kill it as soon as `stop` says so (a SIGTERM sent to us alone would
/// otherwise leave it running).
fn run_until(mut cmd: std::process::Command, stop: impl Fn() -> bool) -> std::io::Result<std::process::Output> {
    use std::process::Stdio;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    // drain the pipes on threads so a chatty child cannot block on a full pipe
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped")));
    let stderr = read(Box::new(child.stderr.take().expect("piped")));
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if stop() {
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let (stdout, stderr) = (stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
    Ok(std::process::Output { status, stdout, stderr })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn;

    #[test]
    fn a_child_is_killed_when_a_stop_is_asked_for_and_its_output_kept_otherwise() {
        let t0 = Instant::now();
        let mut sleeper = std::process::Command::new("sleep");
        sleeper.arg("30");
        let out = run_until(sleeper, || t0.elapsed().as_millis() > 200).unwrap();
        assert!(!out.status.success() && t0.elapsed().as_secs() < 10, "{:?} after {:?}", out.status, t0.elapsed());
        let mut echo = std::process::Command::new("sh");
        echo.args(["-c", "echo out; echo err >&2"]);
        let out = run_until(echo, || false).unwrap();
        assert!(out.status.success());
        assert_eq!((out.stdout.as_slice(), out.stderr.as_slice()), (b"out\n".as_slice(), b"err\n".as_slice()));
    }

    #[test]
    fn median_known_answers() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn flops_of_a_linear_layer_match_the_formula() {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let lin = nn::linear(vs.root(), 10, 7, Default::default());
        vs.freeze();
        let model = nn::func_t(move |x, _| x.flatten(1, -1).apply(&lin));
        let r = reference(&model, &Tensor::randn([1, 10], (Kind::Float, Device::Cpu)), None, &[])
            .unwrap()
            .expect("project venv python is required");
        // 10x7 multiply-adds = 140 FLOPs
        assert_eq!(r.flops, Some(140.0));
    }
}
