//! Unit tests of the probe script and its output parser.

use super::*;

#[test]
fn parses_records_and_contents() {
    let reqs = vec![
        ProbeRequest {
            checksums: vec![ChecksumAlgorithm::Sha1],
            content_limit: Some(100),
            ..ProbeRequest::new("/a")
        },
        ProbeRequest::new("/b"),
    ];
    let out = b"@L 0\n81a4|0|0|root|root|4|1.5|2.5|3.5|7|8|1|8|4096|0|0\n\
@sum sha1sum 0\nabc  /a\n@0 content 4\nx\ny\n\n";
    let stats = parse_probe(&reqs, out).unwrap();
    let a = stats[0].info.as_ref().unwrap();
    assert_eq!(a.file_type, FileType::File);
    assert_eq!(a.mode, 0o644);
    assert_eq!(a.mtime, 2.5);
    assert_eq!(a.checksum(ChecksumAlgorithm::Sha1), Some("abc"));
    assert_eq!(a.content.as_deref(), Some(&b"x\ny\n"[..]));
    assert!(!stats[1].exists());
}

#[test]
fn followed_links_use_the_target_record() {
    let reqs = vec![
        ProbeRequest::new("/l"),
        ProbeRequest {
            follow: true,
            ..ProbeRequest::new("/l")
        },
        ProbeRequest {
            follow: true,
            ..ProbeRequest::new("/dir")
        },
    ];
    let script = probe_script(&reqs);
    // Two distinct paths: one lstat batch, one follow batch, link targets once.
    assert_eq!(script.matches("_p0=").count(), 1);
    assert_eq!(script.matches("_p1=").count(), 1);
    assert_eq!(script.matches("readlink --").count(), 1);
    let out = b"@L 0 1\na1ff|0|0|root|root|4|1|2|3|7|8|1|0|4096|0|0\n\
41ed|0|0|root|root|4096|1|2|3|9|8|2|8|4096|0|0\n@F 0\n\
81a4|0|0|root|root|10|1|2|3|11|8|1|8|4096|0|0\n@=0 link t\n@=0 lnksrc /t\n";
    let stats = parse_probe(&reqs, out).unwrap();
    let l = stats[0].info.as_ref().unwrap();
    assert_eq!(l.file_type, FileType::Link);
    assert_eq!(l.link_target.as_deref(), Some("t"));
    assert_eq!(l.link_source.as_deref(), Some("/t"));
    let f = stats[1].info.as_ref().unwrap();
    assert_eq!((f.file_type, f.inode, f.size), (FileType::File, 11, 10));
    assert_eq!(f.link_target, None);
    assert!(stats[2].is_dir());
}

#[test]
fn dangling_link_followed_is_absent_and_short_batches_fail() {
    let reqs = vec![ProbeRequest {
        follow: true,
        ..ProbeRequest::new("/l")
    }];
    let out = b"@L 0\na1ff|0|0|root|root|4|1|2|3|7|8|1|0|4096|0|0\n";
    assert!(!parse_probe(&reqs, out).unwrap()[0].exists());
    let out = b"@L 0\n@fail\n";
    assert!(parse_probe(&reqs, out).is_err());
}

#[test]
fn attributes_are_read_from_lsattr() {
    let reqs = vec![ProbeRequest {
        attributes: true,
        ..ProbeRequest::new("/a b")
    }];
    assert!(probe_script(&reqs).contains("lsattr -vd --"));
    let out = b"@L 0\n81a4|0|0|root|root|4|1.5|2.5|3.5|7|8|1|8|4096|0|0\n\
@0 attrs 3177784397 ----i---------e------- /a b\n";
    let stats = parse_probe(&reqs, out).unwrap();
    let a = stats[0].info.as_ref().unwrap();
    let version = Some("3177784397".to_string());
    assert_eq!(a.attributes, Some((version, "ie".to_string())));
    // Flags without a version (overlayfs).
    let out = b"@L 0\n81a4|0|0|root|root|4|1.5|2.5|3.5|7|8|1|8|4096|0|0\n\
@0 attrs - -----a---------------- /a b\n";
    let stats = parse_probe(&reqs, out).unwrap();
    let a = stats[0].info.as_ref().unwrap();
    assert_eq!(a.attributes, Some((None, "a".to_string())));
}
