//! Reading the probe script's output back into one [`PathStat`] per request.

use super::script::unique_paths;
use super::{ChecksumAlgorithm, FileType, PathStat, ProbeRequest, StatInfo};

/// Parses the probe's output into one [`PathStat`] per request.
pub fn parse_probe(requests: &[ProbeRequest], out: &[u8]) -> Result<Vec<PathStat>, String> {
    let (paths, slots) = unique_paths(requests);
    let mut lstats: Vec<Option<StatInfo>> = vec![None; paths.len()];
    let mut fstats: Vec<Option<StatInfo>> = vec![None; paths.len()];
    let mut links: Vec<(Option<String>, Option<String>)> = vec![(None, None); paths.len()];
    let mut sums: Vec<Vec<(ChecksumAlgorithm, String)>> = vec![Vec::new(); paths.len()];
    let mut extras: Vec<(usize, String, Option<Vec<u8>>)> = Vec::new();

    let mut lines = LineReader { out, pos: 0 };
    while let Some(line) = lines.next_line() {
        let Some(rest) = line.strip_prefix('@') else {
            continue;
        };
        let (head, value) = rest.split_once(' ').unwrap_or((rest, ""));
        match head {
            "L" | "F" | "sum" => {
                let (algo, list) = if head == "sum" {
                    let (cmd, list) = value.split_once(' ').unwrap_or((value, ""));
                    let algo = requests
                        .iter()
                        .flat_map(|r| &r.checksums)
                        .find(|a| a.command() == cmd)
                        .copied();
                    (algo, list)
                } else {
                    (None, value)
                };
                let batch: Vec<usize> = list
                    .split_whitespace()
                    .map(|k| k.parse::<usize>().ok().filter(|k| *k < paths.len()))
                    .collect::<Option<_>>()
                    .ok_or_else(|| format!("probe: bad batch line '{line}'"))?;
                let mut records = Vec::with_capacity(batch.len());
                for _ in &batch {
                    match lines.next_line() {
                        Some(l) if l != "@fail" => records.push(l),
                        _ => {
                            return Err(format!(
                                "probe: {} changed while being probed; try again",
                                batch
                                    .iter()
                                    .map(|k| paths[*k])
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        }
                    }
                }
                for (k, record) in batch.into_iter().zip(records) {
                    match (head, algo) {
                        ("L", _) => lstats[k] = Some(parse_stat_line(&record)?),
                        ("F", _) => fstats[k] = Some(parse_stat_line(&record)?),
                        (_, Some(algo)) => {
                            // `sha1sum` escapes odd file names with a leading backslash.
                            let record = record.strip_prefix('\\').unwrap_or(&record);
                            let sum = record.split_whitespace().next().unwrap_or("");
                            sums[k].push((algo, sum.to_string()));
                        }
                        _ => {}
                    }
                }
            }
            _ if head.starts_with('=') => {
                let Some(k) = head[1..].parse::<usize>().ok().filter(|k| *k < paths.len()) else {
                    continue;
                };
                let (key, value) = value.split_once(' ').unwrap_or((value, ""));
                match key {
                    "link" => links[k].0 = Some(value.to_string()),
                    "lnksrc" => links[k].1 = Some(value.to_string()),
                    _ => {}
                }
            }
            _ => {
                let Some(i) = head.parse::<usize>().ok().filter(|i| *i < requests.len()) else {
                    continue;
                };
                let (key, value) = value.split_once(' ').unwrap_or((value, ""));
                let content = if key == "content" {
                    let n: usize = value
                        .trim()
                        .parse()
                        .map_err(|_| format!("probe: bad content length '{value}'"))?;
                    Some(lines.take_bytes(n))
                } else {
                    None
                };
                extras.push((i, format!("{key} {value}"), content));
            }
        }
    }

    let mut stats: Vec<PathStat> = requests
        .iter()
        .zip(&slots)
        .map(|(req, &k)| {
            let lstat = lstats[k].as_ref();
            let info = if req.follow && lstat.is_some_and(|i| i.file_type == FileType::Link) {
                // A followed symlink: its target's record, or nothing when it dangles.
                fstats[k].clone()
            } else {
                lstat.cloned()
            };
            let info = info.map(|mut info| {
                if !req.follow {
                    info.link_target = links[k].0.clone();
                    info.link_source = links[k].1.clone();
                }
                info.checksums = sums[k]
                    .iter()
                    .filter(|(a, _)| req.checksums.contains(a))
                    .cloned()
                    .collect();
                info
            });
            PathStat {
                path: req.path.clone(),
                info,
            }
        })
        .collect();
    for (i, extra, content) in extras {
        let Some(info) = stats[i].info.as_mut() else {
            continue;
        };
        let (key, value) = extra.split_once(' ').unwrap_or((&extra, ""));
        match key {
            "r" => info.readable = true,
            "w" => info.writeable = true,
            "x" => info.executable = true,
            "mime" => info.mime_type = Some(value.to_string()),
            "charset" => info.charset = Some(value.to_string()),
            "content" => info.content = content,
            "attrs" => {
                let mut parts = value.split_whitespace();
                if let (Some(version), Some(flags)) = (parts.next(), parts.next()) {
                    let version = (version != "-").then(|| version.to_string());
                    info.attributes = Some((version, flags.replace('-', "")));
                }
            }
            _ => {}
        }
    }
    Ok(stats)
}

/// Splits probe output into lines, and hands out raw byte runs (file contents) between them.
struct LineReader<'a> {
    out: &'a [u8],
    pos: usize,
}

impl LineReader<'_> {
    fn next_line(&mut self) -> Option<String> {
        if self.pos >= self.out.len() {
            return None;
        }
        let rest = &self.out[self.pos..];
        let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        self.pos += end + 1;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    /// The next `n` bytes, skipping the newline printed after them.
    fn take_bytes(&mut self, n: usize) -> Vec<u8> {
        let start = self.pos.min(self.out.len());
        let stop = (start + n).min(self.out.len());
        self.pos = stop + 1;
        self.out[start..stop].to_vec()
    }
}

fn parse_stat_line(line: &str) -> Result<StatInfo, String> {
    let f: Vec<&str> = line.split('|').collect();
    if f.len() < 16 {
        return Err(format!("probe: unexpected stat output '{line}'"));
    }
    let int = |i: usize| -> u64 { f[i].trim().parse().unwrap_or(0) };
    let float = |i: usize| -> f64 { f[i].trim().parse().unwrap_or(0.0) };
    let raw = u32::from_str_radix(f[0].trim(), 16)
        .map_err(|_| format!("probe: bad mode in stat output '{line}'"))?;
    let major = u64::from_str_radix(f[14].trim(), 16).unwrap_or(0);
    let minor = u64::from_str_radix(f[15].trim(), 16).unwrap_or(0);
    Ok(StatInfo {
        file_type: FileType::from_mode(raw),
        mode: raw & 0o7777,
        uid: int(1) as u32,
        gid: int(2) as u32,
        owner: f[3].to_string(),
        group: f[4].to_string(),
        size: int(5),
        atime: float(6),
        mtime: float(7),
        ctime: float(8),
        inode: int(9),
        dev: int(10),
        nlink: int(11),
        blocks: int(12),
        block_size: int(13),
        device_type: (major << 8) | minor,
        ..StatInfo::default()
    })
}
