//! A federation of test nodes: a steward and members joined through the real endpoints.

use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::vocab::MemberStatus;
use std::time::Duration;

use serde_json::json;

use crate::{ALWAYS, TestNode, TestUser, gid};

pub fn fast(c: &mut alongside_api::config::Config, id: &str, name: &str) {
    c.node.id = id.into();
    c.node.institution_name = name.into();
    c.federation.match_deadline_ms = 1500;
    c.federation.member_timeout_ms = 1000;
    // Most federation tests give a member one supporter; the rule that describes a candidate
    // only as far as several supporters fit it is tested with the default in its own test.
    c.federation.candidate_k = 1;
}

pub fn steward_admin() -> Principal {
    Principal::User(UserPrincipal {
        account_id: uuid::Uuid::nil(),
        person_id: uuid::Uuid::nil(),
        roles: [Role::Admin, Role::Member].into_iter().collect(),
    })
}

/// A steward and members `ids`, joined and approved, each holding the manifest.
pub async fn federation(ids: &[&str]) -> (TestNode, Vec<TestNode>) {
    federation_with(ids, |_| {}).await
}

/// Like [`federation`], with `tweak` applied to every node's configuration after [`fast`].
pub async fn federation_with(
    ids: &[&str],
    tweak: fn(&mut alongside_api::config::Config),
) -> (TestNode, Vec<TestNode>) {
    let steward = TestNode::spawn_with(|c| {
        fast(c, "steward.test", "Network steward");
        tweak(c);
    })
    .await;
    let key = steward.state.tokens.key().kid().to_owned();
    steward
        .state
        .federation
        .become_steward(&Principal::Operator)
        .await
        .unwrap();
    let mut members = Vec::new();
    for id in ids {
        let name = format!("Hospital {id}");
        let node = TestNode::spawn_with(|c| {
            fast(c, id, &name);
            tweak(c);
        })
        .await;
        node.state
            .federation
            .request_join(&Principal::Operator, &steward.base, Some(&key))
            .await
            .unwrap();
        members.push(node);
    }
    // The steward sees the requests, then approves.
    let pending = steward
        .state
        .federation
        .members(&steward_admin())
        .await
        .unwrap();
    assert_eq!(pending.len(), ids.len());
    assert!(
        pending
            .iter()
            .all(|m| m.member.status == MemberStatus::Pending)
    );
    for id in ids {
        steward
            .state
            .federation
            .set_member_status(&steward_admin(), (*id).into(), MemberStatus::Active)
            .await
            .unwrap();
    }
    for m in &members {
        // With a couple of hundred nodes in one process a call may meet a connection the
        // steward has just closed; a member would simply refresh again later.
        let mut tries = 0;
        while let Err(e) = m.state.federation.refresh_manifest().await {
            tries += 1;
            assert!(tries < 5, "{}: the manifest: {e:?}", m.base);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    (steward, members)
}

pub async fn supporter(node: &TestNode, profession: &str, opt_in: bool) -> TestUser {
    let admin = node.user(&[Role::Admin]).await;
    let peer = node.user(&[Role::PeerSupporter]).await;
    let q = "mutation($id: ID!, $p: Profession!) { updatePerson(id: $id, input: {profession: $p, specialty: \"Emergency\"}) { id } }";
    node.gql(
        Some(&admin.token),
        q,
        json!({ "id": gid("Person", &peer.person_id), "p": profession }),
    )
    .await;
    let q = format!(
        "mutation($id: ID!, $o: Boolean!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 3, outsideMatchingOptIn: $o, availability: {ALWAYS}}}) {{ id }} }}"
    );
    node.gql(
        Some(&admin.token),
        &q,
        json!({ "id": gid("Person", &peer.person_id), "o": opt_in }),
    )
    .await;
    peer
}

/// A stand-in member at a real port that misbehaves in one way.
pub async fn misbehaving(kind: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await;
                let reply: &[u8] = match kind {
                    "silent" => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                    "slow" => {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 17\r\nconnection: close\r\n\r\n{\"candidates\":[]}"
                    }
                    _ => b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot json!",
                };
                let _ = sock.write_all(reply).await;
            });
        }
    });
    format!("http://{addr}")
}

/// A member at `base_url` that asks to join through the steward's real join endpoint (signed
/// with a key of its own) and is approved.
pub async fn add_member(steward: &TestNode, id: &str, base_url: String) {
    let key = alongside_core::tokens::NodeKey::generate().unwrap();
    let d = alongside_federation::descriptor::NodeDescriptor {
        id: id.into(),
        name: format!("Hospital {id}"),
        base_url,
        protocol_versions: vec!["1".into()],
        keys: vec![alongside_federation::descriptor::PublicKey::current(&key)],
        steward: false,
    };
    let body = serde_json::to_vec(&d).unwrap();
    let path = "/federation/v1/join";
    let call = alongside_federation::sign_call(
        &key,
        id,
        steward.state.federation.node_id(),
        alongside_federation::Request {
            method: "POST",
            path,
            body: &body,
        },
        alongside_core::time::now().and_utc().timestamp(),
        60,
    )
    .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", steward.base))
        .header(alongside_federation::CALL_HEADER, call)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202, "{:?}", resp.text().await);
    steward
        .state
        .federation
        .set_member_status(&steward_admin(), id.into(), MemberStatus::Active)
        .await
        .unwrap();
}
