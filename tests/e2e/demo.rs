//! `alongside demo`: the three nodes start and join, and the commands it prints work when run in
//! a shell, in order, as a person would paste them.

use alongside_api::demo::{self, DemoOptions};

/// A port with the next two free as well.
fn three_free_ports() -> u16 {
    for _ in 0..50 {
        let base = alongside_tests::smtp::free_port();
        if base > 65000 {
            continue;
        }
        let ok = (0..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
        if ok {
            return base;
        }
    }
    panic!("no three consecutive free ports");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_printed_commands_work_when_pasted() {
    let dir = tempfile::tempdir().unwrap();
    let running = demo::start(DemoOptions {
        port_base: three_free_ports(),
        dir: Some(dir.path().to_owned()),
    })
    .await
    .unwrap();
    for c in &running.commands {
        assert!(
            running.instructions.contains(c.as_str()),
            "every command is printed"
        );
    }
    let script = running.commands.join("\n");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg("-euo")
            .arg("pipefail")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.iter().all(|l| l.get("errors").is_none()), "{stdout}");
    let found = &lines[0]["data"]["findOutsidePeers"];
    assert_eq!(found["members"][0]["outcome"], "ANSWERED");
    assert_eq!(found["candidates"][0]["profession"], "NURSE");
    assert_eq!(
        found["candidates"][0]["institution"],
        "Riverside Children's Hospital"
    );
    assert!(
        lines[1]["data"]["federation"]["resources"]["edges"][0]["node"]["resource"]["title"]
            .is_string()
    );
    assert_eq!(lines[2]["data"]["requestIntroduction"]["state"], "SENDING");
    assert_eq!(lines[3]["data"]["myIntroductions"][0]["firstName"], "Casey");
    assert_eq!(
        lines[4]["data"]["respondToIntroduction"]["state"],
        "ACCEPTED"
    );
    assert_eq!(
        lines[5]["data"]["supportRequest"]["state"],
        "SUPPORTED_OUTSIDE"
    );
    assert_eq!(
        lines[6]["data"]["federation"]["members"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    for n in &running.nodes {
        n.handle.stop(false).await;
    }
}
