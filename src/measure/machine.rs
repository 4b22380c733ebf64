//! The machine context recorded in every report: which CPU, how many cores, which vector
//! instructions, caches, memory, OS, hypervisor, clock policy, and how the binary was built.
//!
//! It answers "where were these figures measured?" and, through [`MachineContext::differences`],
//! "can these two reports be compared directly?". Detection never fails: whatever cannot be
//! read becomes `"unknown"` or `None`. No hostname is recorded (reports may be published); the
//! user names the testbed with `--label` instead.
//!
//! Sources, on Linux: `/proc/cpuinfo`, `/sys/devices/system/cpu/cpu0/{cache,cpufreq}`,
//! `/etc/os-release`, CPUID leaf 0x4000_0000 (the hypervisor's signature, as
//! `systemd-detect-virt` reads it) and `sysinfo` for what is portable. Build facts come from
//! `build.rs` (`COSTBENCH_*` environment variables at compile time).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The context of a measurement: hardware, operating system and build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MachineContext {
    /// The user's name for the testbed (`--label`); never the hostname.
    pub label: Option<String>,
    /// CPU model as the OS reports it (`/proc/cpuinfo` "model name", else sysinfo's brand).
    pub cpu_model: String,
    /// CPU vendor, e.g. "AuthenticAMD", "GenuineIntel".
    pub cpu_vendor: String,
    /// Logical CPUs (hardware threads) visible to this process's OS.
    pub logical_cores: usize,
    /// Physical cores, when the OS tells them apart from hardware threads.
    pub physical_cores: Option<usize>,
    /// Vector and matrix instruction sets available at run time.
    pub isa: IsaFeatures,
    /// Caches seen by CPU 0, innermost first.
    pub caches: Vec<CacheLevel>,
    /// Total physical memory, bytes.
    pub memory_bytes: u64,
    /// Operating system, e.g. "Debian GNU/Linux 12 (bookworm)".
    pub os: String,
    /// Kernel version, e.g. "6.1.0-27-amd64".
    pub kernel: String,
    /// The hypervisor when running in a virtual machine (e.g. "kvm"), `None` on bare metal.
    pub virtualization: Option<String>,
    /// Clock policy and the clocks the OS reports.
    pub cpu_frequency: FrequencyInfo,
    /// The compiler that built this binary (`rustc -vV`: version and host).
    pub rustc: String,
    /// Target triple and the target features the code was compiled for.
    pub target: String,
    /// Cargo profile of the build: "release" or "debug".
    pub profile: String,
    /// Worker threads used for the measurements (rayon).
    pub threads: usize,
    /// The cargo features of the build that choose code paths: `avx512` (the AVX-512 kernels of
    /// the product library and the roofline probe, used where the CPU has AVX-512); empty for
    /// the AVX2-only build (`--no-default-features`). Since report schema 1.6; `None` in older
    /// reports, every one of which was built with `avx512` ([`MachineContext::build_features`]).
    #[serde(default)]
    pub features: Option<Vec<String>>,
    /// Version of costbench that made the report.
    pub costbench_version: String,
    /// The source commit costbench itself was built from, embedded at build time (`None` when
    /// built outside its repository without package metadata). Since report schema 1.5.
    #[serde(default)]
    pub costbench_commit: Option<String>,
    /// Whether the sources that make the binary differed from `costbench_commit` when it was
    /// built (`None` when unknown). Since report schema 1.5.
    #[serde(default)]
    pub costbench_dirty: Option<bool>,
    /// The git state of the *working directory* the command ran in — the user's project, not
    /// costbench — recorded only on request (`run --record-git`). Before schema 1.5 it was
    /// always recorded.
    pub git: Option<GitState>,
}

/// Instruction-set extensions that decide which kernels run and how fast.
///
/// Missing keys read as `false`, so reports written before a flag was added still load.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct IsaFeatures {
    pub sse4_2: bool,
    pub avx: bool,
    pub avx2: bool,
    pub fma: bool,
    pub avx512f: bool,
    pub avx512dq: bool,
    pub avx512bw: bool,
    pub avx512vl: bool,
    pub avx512_bf16: bool,
    pub avx512_fp16: bool,
    pub avx512_vnni: bool,
    pub avx_vnni: bool,
    pub amx_tile: bool,
    pub amx_bf16: bool,
    /// aarch64 Advanced SIMD.
    pub neon: bool,
    /// aarch64 Scalable Vector Extension.
    pub sve: bool,
}

/// One cache of CPU 0 (`/sys/devices/system/cpu/cpu0/cache/index*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CacheLevel {
    /// 1, 2, 3…
    pub level: u32,
    /// "data", "instruction" or "unified".
    pub kind: String,
    /// Capacity, bytes.
    pub size_bytes: u64,
    /// How many logical CPUs share this cache instance.
    pub shared_by_logical_cpus: usize,
}

/// The CPU clock policy (Linux cpufreq) and the clocks the OS reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FrequencyInfo {
    /// cpufreq governor of CPU 0, e.g. "performance"; `None` when the OS exposes none (common
    /// in virtual machines, where the host controls the clock).
    pub governor: Option<String>,
    /// Lowest clock the policy allows (`scaling_min_freq`), MHz.
    pub min_mhz: Option<f64>,
    /// Highest clock the policy allows (`scaling_max_freq`), MHz.
    pub max_mhz: Option<f64>,
    /// Per-CPU "cpu MHz" from `/proc/cpuinfo` at detection time, MHz. In virtual machines this is
    /// often a constant (the TSC rate), not the running clock.
    pub current_mhz: Vec<f64>,
}

/// State of the git work tree the command ran in (recorded with `run --record-git`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GitState {
    /// `git rev-parse HEAD`.
    pub commit: String,
    /// Tracked files have uncommitted changes.
    pub dirty: bool,
}

/// The code-path feature of the AVX-512 kernels (`Cargo.toml`).
pub const AVX512_FEATURE: &str = "avx512";

/// The cargo features this binary was built with that choose code paths.
pub fn compiled_features() -> Vec<String> {
    let mut out = Vec::new();
    if cfg!(feature = "avx512") {
        out.push(AVX512_FEATURE.to_owned());
    }
    out
}

/// Where figures were measured, as `compare` and `history` tell reports apart: the user's label
/// and the fingerprint of the machine, its setup and the build's code path. Two reports are on
/// one testbed when both are equal; the same fingerprint under two labels is one machine named
/// twice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Testbed {
    /// `run --label`, if one was given.
    pub label: Option<String>,
    /// 16 hex digits of the SHA-256 of the fields [`MachineContext::differences`] compares:
    /// equal exactly when there are no differences.
    pub fingerprint: String,
    /// For people: `<cpu model>, <threads> threads` (and `, AVX2-only build` for an AVX-512
    /// CPU measured by a build without the `avx512` feature).
    pub machine: String,
}

impl Testbed {
    /// The fingerprint's first 8 hex digits: enough to tell testbeds apart in a table.
    pub fn short_fingerprint(&self) -> String {
        self.fingerprint.chars().take(8).collect()
    }
}

impl std::fmt::Display for Testbed {
    /// `<label>@<8 hex digits>`, or the digits alone without a label: the short form both
    /// `compare` and `history` print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.label {
            Some(l) => write!(f, "{l}@{}", self.short_fingerprint()),
            None => write!(f, "{}", self.short_fingerprint()),
        }
    }
}

impl MachineContext {
    /// Detects the context of this process. Never panics; unknown fields become "unknown" or
    /// `None`.
    pub fn detect(label: Option<String>, threads: usize) -> Self {
        Self::detect_with_git(label, threads, false)
    }

    /// [`MachineContext::detect`], also recording the working directory's git state when
    /// `record_git` (`run --record-git`).
    pub fn detect_with_git(label: Option<String>, threads: usize, record_git: bool) -> Self {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpuinfo_first = first_cpuinfo_block(&cpuinfo);
        let sys = sysinfo::System::new().ok().map(|mut sys| {
            sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
            sys.refresh_memory();
            sys
        });
        let cpu0 = sys.as_ref().and_then(|sys| sys.cpus().first());

        let cpu_model = cpuinfo_first
            .get("model name")
            .cloned()
            .or_else(|| cpu0.map(|cpu| cpu.brand().trim().to_owned()))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        let cpu_vendor = cpuinfo_first
            .get("vendor_id")
            .cloned()
            .or_else(|| cpuinfo_first.get("CPU implementer").cloned())
            .or_else(|| cpu0.map(|cpu| cpu.vendor_id().trim().to_owned()))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        let logical_cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .ok()
            .or_else(|| sys.as_ref().map(|sys| sys.cpus().len()))
            .unwrap_or(1)
            .max(1);
        let physical_cores = sysinfo::System::physical_core_count()
            .ok()
            .filter(|&n| n > 0);
        let flags = cpuinfo_flags(&cpuinfo_first);
        let memory_bytes = sys
            .as_ref()
            .map(|sys| sys.total_memory())
            .filter(|&m| m > 0)
            .or_else(meminfo_total_bytes)
            .unwrap_or(0);

        MachineContext {
            label,
            cpu_model,
            cpu_vendor,
            logical_cores,
            physical_cores,
            isa: IsaFeatures::detect(&flags),
            caches: detect_caches(Path::new("/sys/devices/system/cpu/cpu0/cache")),
            memory_bytes,
            os: os_name(),
            kernel: sysinfo::System::kernel_version()
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "unknown".to_owned()),
            virtualization: detect_virtualization(&flags),
            cpu_frequency: FrequencyInfo::detect(&cpuinfo),
            rustc: env!("COSTBENCH_RUSTC").to_owned(),
            target: build_target(),
            profile: env!("COSTBENCH_PROFILE").to_owned(),
            threads,
            features: Some(compiled_features()),
            costbench_version: env!("CARGO_PKG_VERSION").to_owned(),
            costbench_commit: build_commit(),
            costbench_dirty: build_dirty(),
            git: if record_git { git_state() } else { None },
        }
    }

    /// The commit the figures belong to: costbench's own build commit, else (reports before
    /// schema 1.5, or a build without one) the working directory's recorded git commit.
    pub fn commit(&self) -> Option<&str> {
        self.costbench_commit
            .as_deref()
            .or(self.git.as_ref().map(|g| g.commit.as_str()))
    }

    /// Stable identity of the hardware and build, for caching the probe: the first 16 hex digits
    /// of the SHA-256 of the CPU model, logical cores, ISA flags, memory rounded to GiB, target,
    /// code-path features and costbench version. Not the label, git state, thread count or time.
    /// (A testbed, what `compare` and `history` match reports by, is [`MachineContext::testbed`].)
    pub fn fingerprint(&self) -> String {
        let isa = serde_json::to_string(&self.isa).unwrap_or_default();
        let mut identity = format!(
            "cpu_model={}\nlogical_cores={}\nisa={}\nmemory_gib={}\ntarget={}\ncostbench={}\n",
            self.cpu_model,
            self.logical_cores,
            isa,
            gib_rounded(self.memory_bytes),
            self.target,
            self.costbench_version,
        );
        // The AVX2-only build measures another roofline on the same CPU: it must not reuse the
        // default build's cached probe (nor the reverse).
        identity.push_str(&format!("features={}\n", self.build_features().join(",")));
        let digest = Sha256::digest(identity.as_bytes());
        digest
            .iter()
            .take(8)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The code-path features of the build that measured this context: the recorded ones, or
    /// for a report before schema 1.6 (which did not record them) `avx512`, which every build
    /// had then.
    pub fn build_features(&self) -> Vec<String> {
        self.features
            .clone()
            .unwrap_or_else(|| vec![AVX512_FEATURE.to_owned()])
    }

    /// The fields that make a testbed, as (name, value) in a fixed order: the hardware (CPU,
    /// cores, each ISA flag, caches, memory rounded to GiB, hypervisor), the clock policy, OS,
    /// kernel, thread count, and the build's code-path features (an AVX2-only build runs
    /// other kernels on the same CPU, as an AVX2 host would). Not the label, the git state,
    /// the time-varying current clocks, nor the rest of the build (rustc, target, profile,
    /// costbench version and commit), which are what a comparison on one testbed usually sets
    /// out to compare.
    fn identity(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = vec![
            ("cpu_model".into(), self.cpu_model.clone()),
            ("cpu_vendor".into(), self.cpu_vendor.clone()),
            ("logical_cores".into(), self.logical_cores.to_string()),
            ("physical_cores".into(), show_opt(&self.physical_cores)),
        ];
        for (name, on) in self.isa.as_map() {
            out.push((format!("isa.{name}"), on.to_string()));
        }
        let features = self.build_features();
        out.extend([
            ("caches".into(), describe_caches(&self.caches)),
            (
                "memory".into(),
                format!("{} GiB", gib_rounded(self.memory_bytes)),
            ),
            (
                "virtualization".into(),
                self.virtualization
                    .clone()
                    .unwrap_or_else(|| "none".to_owned()),
            ),
            (
                "cpu_frequency.governor".into(),
                show_opt(&self.cpu_frequency.governor),
            ),
            (
                "cpu_frequency.min_mhz".into(),
                show_opt(&self.cpu_frequency.min_mhz),
            ),
            (
                "cpu_frequency.max_mhz".into(),
                show_opt(&self.cpu_frequency.max_mhz),
            ),
            ("os".into(), self.os.clone()),
            ("kernel".into(), self.kernel.clone()),
            ("threads".into(), self.threads.to_string()),
            (
                "features".into(),
                if features.is_empty() {
                    "none".to_owned()
                } else {
                    features.join(",")
                },
            ),
        ]);
        out
    }

    /// Human-readable differences in the machine and its setup between `self` and `other`, as
    /// "field: self vs other"; empty when they match, which is exactly when their testbeds'
    /// fingerprints are equal (both come from the same fields: [`MachineContext::testbed`]).
    pub fn differences(&self, other: &MachineContext) -> Vec<String> {
        let theirs: BTreeMap<String, String> = other.identity().into_iter().collect();
        self.identity()
            .into_iter()
            .filter_map(|(name, a)| {
                let b = theirs.get(&name).cloned().unwrap_or_else(|| "unknown".into());
                (a != b).then(|| format!("{name}: {a} vs {b}"))
            })
            .collect()
    }

    /// The [`MachineContext::differences`] that change which instructions run: the ISA flags,
    /// the caches (libraries size their blocks by them), the thread count and the build's
    /// code-path features. Where there are none, counts of executed instructions are
    /// comparable across the two testbeds.
    pub fn code_path_differences(&self, other: &MachineContext) -> Vec<String> {
        self.differences(other)
            .into_iter()
            .filter(|d| {
                let name = d.split(':').next().unwrap_or_default();
                name.starts_with("isa.") || matches!(name, "caches" | "threads" | "features")
            })
            .collect()
    }

    /// The testbed these figures were measured on: the user's label and the fingerprint of
    /// the machine, its setup and the build's code path ([`MachineContext::differences`]'s
    /// fields). `compare` matches reports by it and `history` splits series by it.
    pub fn testbed(&self) -> Testbed {
        let mut text = String::new();
        for (name, value) in self.identity() {
            text.push_str(&name);
            text.push('=');
            text.push_str(&value);
            text.push('\n');
        }
        let digest = Sha256::digest(text.as_bytes());
        let mut machine = format!("{}, {} threads", self.cpu_model, self.threads);
        if !self.build_features().iter().any(|f| f == AVX512_FEATURE) && self.isa.avx512f {
            machine.push_str(", AVX2-only build");
        }
        Testbed {
            label: self.label.clone(),
            fingerprint: digest.iter().take(8).map(|b| format!("{b:02x}")).collect(),
            machine,
        }
    }

    /// A one-line warning when the OS may change the CPU clock during measurements (a governor
    /// other than "performance", or a policy range with min below max), saying what to do.
    pub fn frequency_scaling_warning(&self) -> Option<String> {
        let freq = &self.cpu_frequency;
        let governor = freq.governor.as_deref()?;
        if governor != "performance" {
            return Some(format!(
                "CPU frequency governor is '{governor}', so the clock follows the load and timings \
                 vary: for steadier figures run `sudo cpupower frequency-set -g performance` \
                 (or write 'performance' to /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)"
            ));
        }
        match (freq.min_mhz, freq.max_mhz) {
            (Some(min), Some(max)) if min < max * 0.99 => Some(format!(
                "CPU clock may vary between {min:.0} and {max:.0} MHz during measurements: to pin \
                 it, run `sudo cpupower frequency-set -d {max:.0}MHz -u {max:.0}MHz`"
            )),
            _ => None,
        }
    }
}

impl IsaFeatures {
    /// Detects the instruction sets usable at run time: `is_x86_feature_detected!` (which also
    /// checks that the OS saves the registers) where the standard library supports the flag,
    /// else the kernel's `/proc/cpuinfo` flags.
    fn detect(cpuinfo_flags: &[String]) -> Self {
        let has = |flag: &str| cpuinfo_flags.iter().any(|f| f == flag);
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            use std::arch::is_x86_feature_detected as x86;
            IsaFeatures {
                sse4_2: x86!("sse4.2"),
                avx: x86!("avx"),
                avx2: x86!("avx2"),
                fma: x86!("fma"),
                avx512f: x86!("avx512f"),
                avx512dq: x86!("avx512dq"),
                avx512bw: x86!("avx512bw"),
                avx512vl: x86!("avx512vl"),
                avx512_bf16: x86!("avx512bf16"),
                avx512_fp16: x86!("avx512fp16"),
                avx512_vnni: x86!("avx512vnni"),
                avx_vnni: x86!("avxvnni"),
                amx_tile: has("amx_tile"),
                amx_bf16: has("amx_bf16"),
                neon: false,
                sve: false,
            }
        }
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        {
            IsaFeatures {
                // Advanced SIMD is part of every aarch64 CPU; Linux calls it "asimd".
                neon: cfg!(target_arch = "aarch64") || has("asimd"),
                sve: has("sve"),
                ..IsaFeatures::default()
            }
        }
    }

    /// Flag name → value, in a stable order (for differences).
    fn as_map(&self) -> BTreeMap<String, bool> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map
                .into_iter()
                .map(|(k, v)| (k, v.as_bool().unwrap_or(false)))
                .collect(),
            _ => BTreeMap::new(),
        }
    }
}

impl FrequencyInfo {
    fn detect(cpuinfo: &str) -> Self {
        let cpufreq = Path::new("/sys/devices/system/cpu/cpu0/cpufreq");
        let khz_to_mhz = |file: &str| {
            read_trimmed(&cpufreq.join(file))
                .and_then(|s| s.parse::<f64>().ok())
                .map(|khz| khz / 1000.0)
        };
        FrequencyInfo {
            governor: read_trimmed(&cpufreq.join("scaling_governor")),
            min_mhz: khz_to_mhz("scaling_min_freq").or_else(|| khz_to_mhz("cpuinfo_min_freq")),
            max_mhz: khz_to_mhz("scaling_max_freq").or_else(|| khz_to_mhz("cpuinfo_max_freq")),
            current_mhz: cpuinfo
                .lines()
                .filter_map(|line| {
                    let (key, value) = line.split_once(':')?;
                    (key.trim() == "cpu MHz")
                        .then(|| value.trim().parse::<f64>().ok())
                        .flatten()
                })
                .collect(),
        }
    }
}

/// Other processes using at least `threshold_percent` of one CPU right now, busiest first, as
/// (name, percent of one CPU; above 100 for a process running several threads). Samples twice,
/// about 200 ms apart; excludes this process. Empty when the OS cannot tell.
pub fn busy_processes(threshold_percent: f32) -> Vec<(String, f32)> {
    use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};
    let Ok(mut sys) = System::new() else {
        return Vec::new();
    };
    let kind = ProcessRefreshKind::nothing().with_cpu();
    sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
    std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL.max(Duration::from_millis(200)));
    sys.refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
    let own = sysinfo::get_current_pid().ok();
    let mut busy: Vec<(String, f32)> = sys
        .processes()
        .values()
        .filter(|p| Some(p.pid()) != own && p.thread_kind().is_none())
        .filter(|p| p.cpu_usage() >= threshold_percent)
        .map(|p| (p.name().to_string_lossy().into_owned(), p.cpu_usage()))
        .collect();
    busy.sort_by(|a, b| b.1.total_cmp(&a.1));
    busy
}

/// A one-line warning naming the busy processes found by [`busy_processes`], or `None`.
pub fn busy_processes_warning(busy: &[(String, f32)]) -> Option<String> {
    if busy.is_empty() {
        return None;
    }
    let list: Vec<String> = busy
        .iter()
        .take(5)
        .map(|(name, pct)| format!("{name} ({pct:.0}%)"))
        .collect();
    Some(format!(
        "other processes are using the CPU ({}): timings will be noisy; wait for them to finish \
         or stop them, then measure again",
        list.join(", ")
    ))
}

/// The first processor's "key: value" pairs in `/proc/cpuinfo` (plus the global lines some
/// architectures print after the per-CPU blocks).
fn first_cpuinfo_block(cpuinfo: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in cpuinfo.lines() {
        if let Some((key, value)) = line.split_once(':') {
            map.entry(key.trim().to_owned())
                .or_insert_with(|| value.trim().to_owned());
        }
    }
    map
}

/// x86 "flags" or aarch64 "Features".
fn cpuinfo_flags(first: &BTreeMap<String, String>) -> Vec<String> {
    first
        .get("flags")
        .or_else(|| first.get("Features"))
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn detect_caches(dir: &Path) -> Vec<CacheLevel> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut caches: Vec<CacheLevel> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("index"))
        .filter_map(|e| {
            let path = e.path();
            let level = read_trimmed(&path.join("level"))?.parse().ok()?;
            let kind = read_trimmed(&path.join("type"))?.to_lowercase();
            let size_bytes = parse_size(&read_trimmed(&path.join("size"))?)?;
            let shared_by_logical_cpus = read_trimmed(&path.join("shared_cpu_list"))
                .map(|list| count_cpu_list(&list))
                .unwrap_or(1)
                .max(1);
            Some(CacheLevel {
                level,
                kind,
                size_bytes,
                shared_by_logical_cpus,
            })
        })
        .collect();
    caches.sort_by(|a, b| (a.level, &a.kind).cmp(&(b.level, &b.kind)));
    caches
}

/// "48K" → 49152; "32768K", "1M", "512" bytes.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let multiplier = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return None,
    };
    Some(n * multiplier)
}

/// "0-3,8,10-11" → 7.
fn count_cpu_list(list: &str) -> usize {
    list.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('-') {
            Some((lo, hi)) => match (lo.parse::<usize>(), hi.parse::<usize>()) {
                (Ok(lo), Ok(hi)) if hi >= lo => hi - lo + 1,
                _ => 1,
            },
            None => 1,
        })
        .sum()
}

fn describe_caches(caches: &[CacheLevel]) -> String {
    if caches.is_empty() {
        return "unknown".to_owned();
    }
    caches
        .iter()
        .map(|c| {
            let kind = match c.kind.as_str() {
                "data" => "d",
                "instruction" => "i",
                _ => "",
            };
            format!(
                "L{}{kind} {} KiB/{} CPUs",
                c.level,
                c.size_bytes / 1024,
                c.shared_by_logical_cpus
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn meminfo_total_bytes() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn gib_rounded(bytes: u64) -> u64 {
    (bytes as f64 / (1u64 << 30) as f64).round() as u64
}

fn os_name() -> String {
    let pretty = fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                line.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim().trim_matches('"').to_owned())
            })
        })
        .filter(|s| !s.is_empty());
    pretty
        .or_else(|| sysinfo::System::long_os_version().ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The hypervisor, from CPUID leaf 0x4000_0000 when the CPU reports one, else from Xen's
/// `/sys/hypervisor/type` or the DMI vendor strings of common clouds and desktop hypervisors.
fn detect_virtualization(flags: &[String]) -> Option<String> {
    #[cfg(target_arch = "x86_64")]
    {
        if flags.iter().any(|f| f == "hypervisor") || cpuid_hypervisor_bit() {
            return Some(cpuid_hypervisor_name().unwrap_or_else(|| "unknown".to_owned()));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = flags;
    if let Some(kind) = read_trimmed(Path::new("/sys/hypervisor/type")) {
        return Some(kind);
    }
    let dmi = ["sys_vendor", "product_name", "bios_vendor"]
        .iter()
        .filter_map(|f| read_trimmed(&Path::new("/sys/class/dmi/id").join(f)))
        .collect::<Vec<_>>()
        .join(" ");
    let known = [
        ("KVM", "kvm"),
        ("QEMU", "qemu"),
        ("Amazon EC2", "amazon"),
        ("Google Compute Engine", "google"),
        ("VMware", "vmware"),
        ("VirtualBox", "oracle"),
        ("innotek", "oracle"),
        ("Xen", "xen"),
        ("Microsoft Corporation Virtual Machine", "microsoft"),
        ("Parallels", "parallels"),
        ("BHYVE", "bhyve"),
    ];
    known
        .iter()
        .find(|(needle, _)| dmi.contains(needle))
        .map(|(_, name)| (*name).to_owned())
}

#[cfg(target_arch = "x86_64")]
fn cpuid_hypervisor_bit() -> bool {
    // CPUID.1:ECX bit 31 is reserved for hypervisors to announce themselves.
    let leaf1 = std::arch::x86_64::__cpuid(1);
    leaf1.ecx & (1 << 31) != 0
}

/// Names the hypervisor from its CPUID signature, as `systemd-detect-virt` does.
#[cfg(target_arch = "x86_64")]
fn cpuid_hypervisor_name() -> Option<String> {
    let leaf = std::arch::x86_64::__cpuid(0x4000_0000);
    let mut signature = Vec::with_capacity(12);
    for reg in [leaf.ebx, leaf.ecx, leaf.edx] {
        signature.extend_from_slice(&reg.to_le_bytes());
    }
    let signature = String::from_utf8_lossy(&signature)
        .trim_end_matches('\0')
        .to_owned();
    let known = [
        ("KVMKVMKVM", "kvm"),
        ("Linux KVM Hv", "kvm"),
        ("Microsoft Hv", "microsoft"),
        ("VMwareVMware", "vmware"),
        ("XenVMMXenVMM", "xen"),
        ("TCGTCGTCGTCG", "qemu"),
        ("bhyve bhyve ", "bhyve"),
        (" lrpepyh  vr", "parallels"),
        ("ACRNACRNACRN", "acrn"),
        ("QNXQVMBSQG", "qnx"),
        ("VBoxVBoxVBox", "oracle"),
        ("SRESRESRESRE", "sre"),
        ("Apple VZ", "apple"),
    ];
    known
        .iter()
        .find(|(sig, _)| signature.starts_with(sig))
        .map(|(_, name)| (*name).to_owned())
        .or_else(|| {
            let printable: String = signature
                .chars()
                .filter(|c| c.is_ascii_graphic() || *c == ' ')
                .collect();
            let printable = printable.trim();
            (!printable.is_empty()).then(|| printable.to_owned())
        })
}

/// "x86_64-unknown-linux-gnu (target features: avx,avx2,fma,…)".
fn build_target() -> String {
    let triple = env!("COSTBENCH_TARGET");
    let features = env!("COSTBENCH_TARGET_FEATURES");
    if features.is_empty() {
        triple.to_owned()
    } else {
        format!("{triple} (target features: {features})")
    }
}

/// The commit costbench was built from (`build.rs`).
pub fn build_commit() -> Option<String> {
    Some(env!("COSTBENCH_BUILD_COMMIT"))
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

/// Whether costbench's sources differed from [`build_commit`] when it was built.
pub fn build_dirty() -> Option<bool> {
    match env!("COSTBENCH_BUILD_DIRTY") {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The git commit of the working directory's repository; `None` outside a repository, when git
/// is missing, or on any error.
fn git_state() -> Option<GitState> {
    let run = |args: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let commit = run(&["rev-parse", "HEAD"])?.trim().to_owned();
    if commit.is_empty() {
        return None;
    }
    let status = run(&["status", "--porcelain", "--untracked-files=no"])?;
    Some(GitState {
        commit,
        dirty: !status.trim().is_empty(),
    })
}

fn read_trimmed(path: &Path) -> Option<String> {
    fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn show_opt<T: std::fmt::Display>(value: &Option<T>) -> String {
    match value {
        Some(v) => v.to_string(),
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detect_finds_a_cpu_and_cores() {
        let ctx = MachineContext::detect(None, 1);
        assert!(!ctx.cpu_model.is_empty());
        assert!(ctx.logical_cores >= 1);
        assert!(!ctx.rustc.is_empty());
        assert!(!ctx.target.is_empty());
        assert_eq!(ctx.threads, 1);
    }

    #[test]
    fn fingerprint_is_stable_and_ignores_label() {
        let a = MachineContext::detect(None, 1);
        let b = MachineContext::detect(Some("my testbed".to_owned()), 2);
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 16);
        assert!(a.fingerprint().chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn fingerprint_changes_with_the_hardware() {
        let a = MachineContext::detect(None, 1);
        let mut b = a.clone();
        b.logical_cores += 1;
        assert_ne!(a.fingerprint(), b.fingerprint());
    }

    #[test]
    fn differences_are_empty_for_the_same_machine() {
        let a = MachineContext::detect(None, 2);
        let mut b = MachineContext::detect(Some("other label".to_owned()), 2);
        b.cpu_frequency.current_mhz = vec![1234.0];
        b.git = None;
        assert_eq!(a.differences(&b), Vec::<String>::new());
    }

    #[test]
    fn differences_list_a_changed_core_count_and_isa_flag() {
        let a = MachineContext::detect(None, 2);
        let mut b = a.clone();
        b.logical_cores = a.logical_cores + 2;
        b.isa.avx512f = !a.isa.avx512f;
        let diffs = a.differences(&b);
        assert!(
            diffs.contains(&format!(
                "logical_cores: {} vs {}",
                a.logical_cores,
                a.logical_cores + 2
            )),
            "{diffs:?}"
        );
        assert!(
            diffs.iter().any(|d| d.starts_with("isa.avx512f:")),
            "{diffs:?}"
        );
        assert_eq!(diffs.len(), 2, "{diffs:?}");
    }

    #[test]
    fn one_testbed_exactly_when_there_are_no_differences() {
        let a = MachineContext::detect(Some("lab".to_owned()), 2);
        let mut same = a.clone();
        same.cpu_frequency.current_mhz = vec![1.0];
        same.git = None;
        same.costbench_version = "9.9.9".to_owned();
        same.rustc = "another rustc".to_owned();
        assert_eq!(a.testbed(), same.testbed());
        assert!(a.differences(&same).is_empty());
        let mutations: [fn(&mut MachineContext); 6] = [
            |m| m.cpu_model.push('!'),
            |m| m.threads += 1,
            |m| m.kernel.push('+'),
            |m| m.isa.avx512f = !m.isa.avx512f,
            |m| m.features = Some(Vec::new()),
            |m| m.memory_bytes += 4 << 30,
        ];
        for mutate in mutations {
            let mut b = a.clone();
            mutate(&mut b);
            assert!(!a.differences(&b).is_empty());
            assert_ne!(a.testbed().fingerprint, b.testbed().fingerprint);
        }
        // The label names the testbed but is not part of the machine's fingerprint.
        let mut renamed = a.clone();
        renamed.label = Some("elsewhere".to_owned());
        assert!(a.differences(&renamed).is_empty());
        assert_eq!(a.testbed().fingerprint, renamed.testbed().fingerprint);
        assert_ne!(a.testbed(), renamed.testbed());
        assert_eq!(
            a.testbed().to_string(),
            format!("lab@{}", &a.testbed().fingerprint[..8])
        );
        renamed.label = None;
        assert_eq!(renamed.testbed().to_string(), &a.testbed().fingerprint[..8]);
    }

    #[test]
    fn the_build_features_are_recorded_and_old_reports_had_avx512() {
        let a = MachineContext::detect(None, 2);
        assert_eq!(a.features, Some(compiled_features()));
        assert_eq!(
            compiled_features().contains(&AVX512_FEATURE.to_owned()),
            cfg!(feature = "avx512")
        );
        // A report before schema 1.6 records none: every build then had the AVX-512 paths.
        let mut old = a.clone();
        old.features = None;
        assert_eq!(old.build_features(), vec![AVX512_FEATURE.to_owned()]);
        // The AVX2-only build is another testbed, another code path and another probe.
        let mut avx2 = a.clone();
        avx2.features = Some(Vec::new());
        let mut native = a.clone();
        native.features = Some(vec![AVX512_FEATURE.to_owned()]);
        assert_eq!(
            native.differences(&avx2),
            vec!["features: avx512 vs none".to_owned()]
        );
        assert_eq!(native.code_path_differences(&avx2).len(), 1);
        assert_ne!(native.fingerprint(), avx2.fingerprint());
        assert_eq!(native.differences(&old), Vec::<String>::new());
        if native.isa.avx512f {
            assert!(avx2.testbed().machine.ends_with("AVX2-only build"));
        }
        // A different kernel is another testbed, but the same code path.
        let mut kernel = native.clone();
        kernel.kernel.push('+');
        assert!(native.code_path_differences(&kernel).is_empty());
    }

    #[test]
    fn context_round_trips_through_json() {
        let a = MachineContext::detect(Some("lab".to_owned()), 2);
        let json = serde_json::to_string(&a).unwrap();
        let b: MachineContext = serde_json::from_str(&json).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn cache_sizes_and_cpu_lists_parse() {
        assert_eq!(parse_size("48K"), Some(48 * 1024));
        assert_eq!(parse_size("32768K"), Some(32 << 20));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(count_cpu_list("0-1"), 2);
        assert_eq!(count_cpu_list("0"), 1);
        assert_eq!(count_cpu_list("0-3,8,10-11"), 7);
    }

    #[test]
    fn governor_warnings_say_what_to_do() {
        let mut ctx = MachineContext::detect(None, 1);
        ctx.cpu_frequency = FrequencyInfo {
            governor: Some("powersave".to_owned()),
            min_mhz: Some(800.0),
            max_mhz: Some(3000.0),
            current_mhz: vec![],
        };
        let warning = ctx.frequency_scaling_warning().unwrap();
        assert!(warning.contains("powersave") && warning.contains("performance"));
        ctx.cpu_frequency.governor = Some("performance".to_owned());
        assert!(ctx.frequency_scaling_warning().unwrap().contains("3000"));
        ctx.cpu_frequency.min_mhz = Some(3000.0);
        assert_eq!(ctx.frequency_scaling_warning(), None);
        ctx.cpu_frequency.governor = None;
        assert_eq!(ctx.frequency_scaling_warning(), None);
    }

    #[test]
    fn busy_processes_are_sorted_and_warned_about() {
        // Threshold 0 lists every sampled process (other than this one), busiest first.
        let busy = busy_processes(0.0);
        assert!(busy.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(busy.iter().all(|(_, pct)| pct.is_finite() && *pct >= 0.0));
        assert_eq!(busy_processes_warning(&[]), None);
        let warning = busy_processes_warning(&[("rustc".to_owned(), 98.0)]).unwrap();
        assert!(warning.contains("rustc (98%)"));
    }
}
