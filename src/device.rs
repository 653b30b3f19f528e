//! Device choice: CUDA, then Apple MPS, then CPU, unless the user names one.
use crate::error::{Error, Result};
use tch::Device;

/// Parse a user device string: `auto`, `cpu`, `cuda`, `cuda:N`, `mps`.
pub fn parse(spec: &str) -> Result<Device> {
    let s = spec.trim().to_ascii_lowercase();
    let dev = match s.as_str() {
        "auto" | "" => return Ok(pick()),
        "cpu" => Device::Cpu,
        "mps" => Device::Mps,
        "cuda" => Device::Cuda(0),
        _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(i)) => Device::Cuda(i),
            _ => return Err(Error::Config(format!("unknown device `{spec}` (auto, cpu, cuda, cuda:N, mps)"))),
        },
    };
    check_available(dev)?;
    Ok(dev)
}

/// The best available device.
pub fn pick() -> Device {
    if tch::Cuda::is_available() {
        Device::Cuda(0)
    } else if tch::utils::has_mps() {
        Device::Mps
    } else {
        Device::Cpu
    }
}

fn check_available(dev: Device) -> Result<()> {
    let ok = match dev {
        Device::Cpu => true,
        Device::Cuda(i) => tch::Cuda::is_available() && (i as i64) < tch::Cuda::device_count(),
        Device::Mps => tch::utils::has_mps(),
        Device::Vulkan => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Config(format!("device {dev:?} was requested but is not available")))
    }
}

/// One line for logs: device and CPU thread count.
pub fn describe(dev: Device) -> String {
    format!("device: {dev:?}, torch threads: {}, libtorch CUDA: {}", tch::get_num_threads(), tch::Cuda::is_available())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_specs_and_rejects_garbage() {
        assert_eq!(parse("cpu").unwrap(), Device::Cpu);
        assert_eq!(parse("CPU").unwrap(), Device::Cpu);
        assert!(parse("tpu").is_err());
        assert!(parse("cuda:x").is_err());
        // auto always resolves to something usable
        let d = parse("auto").unwrap();
        assert!(check_available(d).is_ok());
    }
}
