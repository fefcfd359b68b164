//! `httplab shell` end to end, as root: curl fetches a body from the lab's
//! server through a lossy emulated link, the packet log shows the drops,
//! the exit status is the command's; and bad input (not root, no
//! /dev/net/tun, a taken namespace name, a command that does not exist)
//! gets a clear error, a non-zero exit, and leaves no namespace behind.
//!
//! Elsewhere each test prints why it skips; with
//! `HTTPLAB_REQUIRE_EMULATOR=1` (set by `.ci/run`, which runs as root) a
//! machine that cannot run them fails instead.

use std::process::{Command, Output};

fn usable(needs_curl: bool) -> bool {
    let reason = match emulator::preflight() {
        Err(e) => Some(e.to_string()),
        Ok(()) if needs_curl && Command::new("curl").arg("--version").output().is_err() => {
            Some("curl is not installed".to_owned())
        }
        Ok(()) => None,
    };
    match reason {
        None => true,
        Some(reason) => {
            if std::env::var_os("HTTPLAB_REQUIRE_EMULATOR").is_some() {
                panic!("HTTPLAB_REQUIRE_EMULATOR is set but this test cannot run: {reason}");
            }
            eprintln!("skipped: {reason}");
            false
        }
    }
}

fn namespaces() -> String {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn prefix(name: &str) -> String {
    format!("htl-shell-{name}-{}", std::process::id())
}

fn httplab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_httplab"))
        .args(args)
        .output()
        .expect("httplab runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn curl_fetches_through_a_lossy_link_and_the_log_shows_the_drops() {
    if !usable(true) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("httplab-shell-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("packets.csv");
    let body = dir.join("body.bin");
    let p = prefix("curl");
    let script = format!(
        "curl --silent --show-error --http2 --cacert \"$HTTPLAB_CA\" \
         --resolve \"$HTTPLAB_SERVER_NAME:443:10.0.0.2\" -o {} \"${{HTTPLAB_URL}}bytes/300000\"",
        body.display()
    );
    let out = httplab(&[
        "shell",
        "--loss",
        "5",
        "--netns",
        &p,
        "--packet-log",
        log.to_str().unwrap(),
        "--",
        "sh",
        "-c",
        &script,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&body).unwrap().len(), 300_000);
    assert!(!namespaces().contains(&p), "left: {}", namespaces());
    let csv = std::fs::read_to_string(&log).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",late_ns"), "{header}");
    let random = csv
        .lines()
        .filter(|l| l.contains(",dropped,,random,"))
        .count();
    // About 300 packets at 5 % each way: no drop at all would be a broken
    // loss model (probability under 1e-6).
    assert!(random > 0, "no random drop in the log");
    assert!(stderr(&out).contains("at random"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_shell_exits_with_the_commands_status() {
    if !usable(false) {
        return;
    }
    let p = prefix("status");
    let out = httplab(&["shell", "--netns", &p, "--", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!namespaces().contains(&p));
}

#[test]
fn a_command_that_does_not_exist_is_a_clear_error() {
    if !usable(false) {
        return;
    }
    let p = prefix("nocmd");
    let out = httplab(&["shell", "--netns", &p, "--", "/no/such/program"]);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(e.contains("'/no/such/program' was not found"), "{e}");
    assert!(!namespaces().contains(&p));
}

#[test]
fn a_taken_namespace_name_is_a_clear_error_and_left_alone() {
    if !usable(false) {
        return;
    }
    let p = prefix("taken");
    let taken = format!("{p}-client");
    assert!(Command::new("ip")
        .args(["netns", "add", &taken])
        .status()
        .unwrap()
        .success());
    let out = httplab(&["shell", "--netns", &p, "--", "true"]);
    let still_there = namespaces().contains(&taken);
    let _ = Command::new("ip").args(["netns", "del", &taken]).status();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert!(still_there, "the shell deleted a namespace it did not make");
    assert!(!namespaces().contains(&p), "left: {}", namespaces());
}

#[test]
fn not_root_is_a_clear_error() {
    if !usable(false) {
        return;
    }
    // As user nobody.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_httplab"))
        .args(["shell", "--", "true"])
        .output()
        .expect("setpriv runs");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("needs root"), "{}", stderr(&out));
}

#[test]
fn no_tun_device_is_a_clear_error() {
    if !usable(false) {
        return;
    }
    // /dev/net hidden under an empty tmpfs, in a mount namespace of its own.
    let p = prefix("notun");
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs none /dev/net && exec {} shell --netns {p} -- true",
            env!("CARGO_BIN_EXE_httplab")
        ))
        .output()
        .expect("unshare runs");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("/dev/net/tun does not exist"),
        "{}",
        stderr(&out)
    );
    assert!(!namespaces().contains(&p));
}

#[test]
fn ctrl_c_ends_the_command_and_deletes_the_namespaces() {
    if !usable(false) {
        return;
    }
    let p = prefix("sigint");
    let mut shell = Command::new(env!("CARGO_BIN_EXE_httplab"))
        .args(["shell", "--netns", &p, "--", "sleep", "60"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("httplab runs");
    // Wait (at most 10 s) for the namespaces to appear.
    let client = format!("{p}-client");
    for _ in 0..200 {
        if namespaces().contains(&client) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(namespaces().contains(&client), "the shell never started");
    // Ctrl-C reaches the shell alone here (no terminal): it must pass it on
    // to the command and clean up.
    let sent = Command::new("kill")
        .args(["-INT", &shell.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut status = None;
    for _ in 0..200 {
        status = shell.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let Some(status) = status else {
        let _ = shell.kill();
        panic!("the shell did not end within 10 s of Ctrl-C");
    };
    assert!(!status.success(), "sleep was cut short, so the shell fails");
    assert!(!namespaces().contains(&p), "left: {}", namespaces());
}
