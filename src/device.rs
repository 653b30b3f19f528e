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

/// The machine in one line, for labelling results: CPU model, logical cores, and the bf16
/// units it has (`avx512_bf16`, `amx_bf16`); "unknown CPU" where /proc/cpuinfo cannot be read.
pub fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    machine_from(&info, std::thread::available_parallelism().map_or(0, |n| n.get()))
}

/// The value of the first `key : value` line of /proc/cpuinfo text with exactly that key (every
/// processor block repeats the same model and flags).
pub fn cpuinfo_field<'a>(cpuinfo: &'a str, key: &str) -> Option<&'a str> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then_some(v.trim())
    })
}

fn machine_from(cpuinfo: &str, cores: usize) -> String {
    let model = cpuinfo_field(cpuinfo, "model name").unwrap_or("unknown CPU");
    let flags = cpuinfo_field(cpuinfo, "flags").unwrap_or_default();
    let units: Vec<&str> = flags.split_whitespace().filter(|f| ["avx512_bf16", "amx_bf16"].contains(f)).collect();
    let units = if units.is_empty() { String::new() } else { format!(", {}", units.join(" ")) };
    format!("{model}, {cores} cores{units}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_machine_line_names_model_cores_and_bf16_units() {
        let info = "processor : 0\nmodel name\t: Intel Xeon X\nflags\t\t: fpu avx512f avx512_bf16 amx_tile amx_bf16\n";
        assert_eq!(super::machine_from(info, 2), "Intel Xeon X, 2 cores, avx512_bf16 amx_bf16");
        assert_eq!(super::machine_from("", 4), "unknown CPU, 4 cores");
    }

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
