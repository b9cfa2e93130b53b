//! `alongside demo`: a steward and two hospitals on local ports, each with its own embedded
//! SQLite database and sample data, joined into one federation through the real protocol, and
//! the commands to try printed ready to paste.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::accounts::{self, NewUser};
use alongside_core::vocab::{MemberStatus, Profession};
use anyhow::{Context, anyhow};
use serde_json::{Value, json};

use crate::config::Config;
use crate::node::{self, AppState, Running};
use crate::{delivery, graphql, maintenance};

/// Where and how to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The steward listens here; hospital A on the next port, hospital B on the one after.
    pub port_base: u16,
    /// Data directory for all three nodes (a fresh temporary one by default).
    pub dir: Option<PathBuf>,
}

/// One node of the demo, serving.
pub struct DemoNode {
    pub addr: std::net::SocketAddr,
    pub state: AppState,
    pub handle: actix_web::dev::ServerHandle,
}

/// A running demo.
pub struct Demo {
    pub nodes: Vec<DemoNode>,
    pub dir: PathBuf,
    /// What to print: the nodes and the commands to try.
    pub instructions: String,
    /// The shell commands in `instructions`, in order, for tests.
    pub commands: Vec<String>,
    /// (who, the link that signs a browser in as them), as printed.
    pub personas: Vec<(String, String)>,
}

const ALWAYS: &str = "[{weekday: MON, start: \"00:00\", end: \"23:59\"}, {weekday: TUE, start: \"00:00\", end: \"23:59\"}, {weekday: WED, start: \"00:00\", end: \"23:59\"}, {weekday: THU, start: \"00:00\", end: \"23:59\"}, {weekday: FRI, start: \"00:00\", end: \"23:59\"}, {weekday: SAT, start: \"00:00\", end: \"23:59\"}, {weekday: SUN, start: \"00:00\", end: \"23:59\"}]";

fn config(opts: &DemoOptions, dir: &std::path::Path, offset: u16, id: &str, name: &str) -> Config {
    let mut c = Config {
        bind: format!("127.0.0.1:{}", opts.port_base + offset),
        data_dir: dir.join(id),
        development: true,
        workers: 2,
        ..Config::default()
    };
    c.node.id = id.into();
    c.node.institution_name = name.into();
    c.demo_mode = true;
    c.auth.access_token_ttl_secs = 12 * 3600;
    c.email.transport = "file".into();
    c.federation.manifest_refresh_secs = 5;
    c.federation.sync_interval_secs = 10;
    // Each demo hospital has one supporter per profession, so the rule that describes a
    // candidate only as far as three supporters fit it would offer none; a real node keeps 3.
    c.federation.candidate_k = 1;
    c.maintenance.interval_secs = 10;
    c.outbox.poll_interval_ms = 250;
    c
}

struct Seeder<'a> {
    state: &'a AppState,
    admin: Principal,
}

impl<'a> Seeder<'a> {
    async fn new(state: &'a AppState) -> anyhow::Result<Self> {
        let (admin, _) = user(state, "admin", Profession::Administrator, &[Role::Admin]).await?;
        Ok(Self {
            state,
            admin: Principal::User(admin),
        })
    }

    async fn gql(&self, who: &Principal, query: &str, variables: Value) -> anyhow::Result<Value> {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        let answer = graphql::execute(
            &self.state.schema,
            &self.state.db,
            &self.state.config.limits,
            who.clone(),
            request,
        )
        .await;
        if let Some(e) = answer.response.errors.first() {
            return Err(anyhow!("demo data: {}", e.message));
        }
        Ok(answer.data_json()?)
    }

    async fn supporter(
        &self,
        name: &str,
        profession: &str,
        specialty: &str,
        languages: &[&str],
    ) -> anyhow::Result<UserPrincipal> {
        let (p, person) = user(self.state, name, Profession::Other, &[Role::PeerSupporter]).await?;
        let id = graphql::ids::encode(graphql::ids::PERSON, person);
        self.gql(
            &self.admin,
            "mutation($id: ID!, $p: Profession!, $s: String!, $l: [String!]!) { updatePerson(id: $id, input: {profession: $p, specialty: $s, experienceBand: OVER_FIFTEEN, languages: $l}) { id } }",
            json!({ "id": id, "p": profession, "s": specialty, "l": languages }),
        )
        .await?;
        let q = format!(
            "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2026-01-15\", livedExperience: true, timeZone: \"America/Chicago\", caseloadCap: 4, outsideMatchingOptIn: true, availability: {ALWAYS}}}) {{ id }} }}"
        );
        self.gql(&self.admin, &q, json!({ "id": id })).await?;
        Ok(p)
    }

    async fn resource(
        &self,
        title: &str,
        summary: &str,
        body: &str,
        tags: &[&str],
    ) -> anyhow::Result<()> {
        self.gql(
            &self.admin,
            "mutation($i: ResourceInputGql!) { createResource(input: $i) { id } }",
            json!({ "i": { "kind": "GUIDANCE_CARD", "title": title, "summary": summary, "body": body, "tags": tags, "licence": "CC BY 4.0", "sharing": "FEDERATION" } }),
        )
        .await
        .map(|_| ())
    }
}

async fn user(
    state: &AppState,
    name: &str,
    profession: Profession,
    roles: &[Role],
) -> anyhow::Result<(UserPrincipal, uuid::Uuid)> {
    let db = state.db.clone();
    let host = state.config.node.id.clone();
    let roles: BTreeSet<Role> = roles.iter().copied().chain([Role::Member]).collect();
    let new = NewUser {
        email: format!("{name}@{host}"),
        display_name: name.into(),
        profession,
        roles: roles.clone(),
        password: alongside_core::secrets::generate_password()?,
    };
    let (account, person) = db
        .run(move |conn| accounts::create_user_unchecked(conn, new))
        .await?;
    Ok((
        UserPrincipal {
            account_id: account.id,
            person_id: person.id,
            roles,
        },
        person.id,
    ))
}

/// The demo's directory: the one given, or a fresh temporary one; created.
pub fn directory(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let dir = match dir {
        Some(d) => d,
        None => std::env::temp_dir().join(format!(
            "alongside-demo-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        )),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Starts the three nodes, joins them and loads the sample data. Must run inside a Tokio
/// runtime; the servers run until the returned handles are stopped or the process ends.
pub async fn start(opts: DemoOptions) -> anyhow::Result<Demo> {
    let dir = directory(opts.dir.clone())?;
    let nodes = start_nodes(&opts, &dir).await?;
    let (steward, a, b) = (&nodes[0].state, &nodes[1].state, &nodes[2].state);
    let steward_admin = federate(steward, [a, b], &format!("http://{}", nodes[0].addr)).await?;
    let seeded = seed(a, b).await?;
    let personas = personas(steward, a, b, &steward_admin, &seeded)?;
    for member in [a, b] {
        member
            .federation
            .refresh_manifest()
            .await
            .map_err(|e| anyhow!("manifest: {e}"))?;
    }
    for member in [a, b] {
        maintenance::sync_round(member).await;
    }

    let commands = commands(&nodes, &steward_admin, &seeded)?;
    let instructions = instructions(&dir, &nodes, &personas, &commands);
    Ok(Demo {
        nodes,
        dir,
        instructions,
        commands,
        personas,
    })
}

/// The steward and the two hospitals, each serving with its workers.
async fn start_nodes(opts: &DemoOptions, dir: &std::path::Path) -> anyhow::Result<Vec<DemoNode>> {
    let specs = [
        (
            0,
            "steward.demo.local",
            "Clinician Support Network (steward)",
        ),
        (1, "hospital-a.demo.local", "Lakeside General Hospital"),
        (2, "hospital-b.demo.local", "Riverside Children's Hospital"),
    ];
    let mut nodes = Vec::new();
    for (offset, id, name) in specs {
        let c = config(opts, dir, offset, id, name);
        let bind = c.bind.clone();
        let running = tokio::task::spawn_blocking(move || node::start(c))
            .await?
            .with_context(|| {
                format!("starting {id} on {bind} (choose other ports with --port-base)")
            })?;
        let Running {
            addr,
            state,
            server,
            ..
        } = running;
        let handle = server.handle();
        tokio::spawn(server);
        tokio::spawn(maintenance::run(state.clone()));
        tokio::spawn(maintenance::run_federation(state.clone()));
        tokio::spawn(delivery::run(state.clone()));
        nodes.push(DemoNode {
            addr,
            state,
            handle,
        });
    }
    Ok(nodes)
}

/// Returns the steward's admin.
async fn federate(
    steward: &AppState,
    members: [&AppState; 2],
    steward_url: &str,
) -> anyhow::Result<Principal> {
    // The steward starts the federation; the hospitals ask to join; the steward's admin approves.
    steward
        .federation
        .become_steward(&Principal::Operator)
        .await
        .map_err(|e| anyhow!("starting the federation: {e}"))?;
    let kid = steward.tokens.key().kid().to_owned();
    let steward_admin = Seeder::new(steward).await?.admin;
    for member in members {
        member
            .federation
            .request_join(&Principal::Operator, steward_url, Some(&kid))
            .await
            .map_err(|e| anyhow!("joining: {e}"))?;
        steward
            .federation
            .set_member_status(
                &steward_admin,
                member.config.node.id.clone(),
                MemberStatus::Active,
            )
            .await
            .map_err(|e| anyhow!("approving: {e}"))?;
    }

    Ok(steward_admin)
}

/// Who the sample data made, for the persona links and the commands.
struct Seeded {
    nurse_a: UserPrincipal,
    b_nurse: UserPrincipal,
    alex: UserPrincipal,
    morgan: UserPrincipal,
    request_id: String,
}

async fn seed(a: &AppState, b: &AppState) -> anyhow::Result<Seeded> {
    // Sample data: supporters at B who opted in to outside matching, resources on both sides,
    // a trainer, and a nurse at A who asked for a peer outside her own hospital.
    let seed_b = Seeder::new(b).await?;
    let b_nurse = seed_b
        .supporter("jordan", "NURSE", "Pediatric intensive care", &["en", "es"])
        .await?;
    seed_b
        .supporter("priya", "PHYSICIAN", "Emergency medicine", &["en"])
        .await?;
    seed_b
        .supporter("lee", "PHARMACIST", "Oncology pharmacy", &["en", "ko"])
        .await?;
    seed_b
        .resource(
            "After a code: a debrief guide",
            "How a team checks in with each other after a resuscitation.",
            "Meet within the shift. Start with how everyone is doing, not with what happened.",
            &["debrief", "resuscitation"],
        )
        .await?;
    seed_b
        .gql(
            &seed_b.admin,
            "mutation($i: TrainerInputGql!) { upsertTrainer(input: $i) }",
            json!({ "i": { "displayName": "Rosa Lind", "credentials": "RN, CPPS", "organization": "Northside Peer Support Institute", "topics": ["peer supporter training", "disclosure coaching"], "formats": ["virtual", "in person"], "publishedFields": ["credentials", "organization", "topics", "formats"], "consented": true } }),
        )
        .await?;
    let seed_a = Seeder::new(a).await?;
    seed_a
        .resource(
            "Huddle after a patient fall",
            "A ten-minute unit huddle to support staff after a fall.",
            "Thank the team, normalise the feelings, point to peer support.",
            &["falls", "huddle"],
        )
        .await?;
    let (nurse_a, nurse_person) = user(a, "casey", Profession::Nurse, &[]).await?;
    let asked = seed_a
        .gql(
            &Principal::User(nurse_a.clone()),
            "mutation { requestSupport(input: {peerOrigin: OUTSIDE_INSTITUTION_ONLY, peerProfession: NURSE, modality: VIDEO}) { request { id } } }",
            json!({}),
        )
        .await?;
    let _ = nurse_person;
    // People to be in a browser: the demo prints a link that signs in as each.
    let alex = seed_a
        .supporter("alex", "NURSE", "Emergency nursing", &["en", "es"])
        .await?;
    let (morgan, _) = user(a, "morgan", Profession::Administrator, &[Role::Coordinator]).await?;
    let request_id = asked["requestSupport"]["request"]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("demo data: no request id"))?
        .to_owned();
    Ok(Seeded {
        nurse_a,
        b_nurse,
        alex,
        morgan,
        request_id,
    })
}

/// A sign-in link per person to try in a browser.
fn personas(
    steward: &AppState,
    a: &AppState,
    b: &AppState,
    steward_admin: &Principal,
    seeded: &Seeded,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut personas = vec![];
    let persona =
        |state: &AppState, label: &str, who: UserPrincipal| -> anyhow::Result<(String, String)> {
            let path = state
                .personas
                .as_ref()
                .ok_or_else(|| anyhow!("demo nodes serve persona links"))?
                .add(who)?;
            Ok((
                label.to_owned(),
                format!("{}{path}", state.tokens.settings().issuer),
            ))
        };
    let admin_of = |p: &Principal| p.user().cloned().ok_or_else(|| anyhow!("demo admin"));
    personas.push(persona(
        a,
        "Casey, a nurse at hospital A",
        seeded.nurse_a.clone(),
    )?);
    personas.push(persona(
        a,
        "Alex, a peer supporter at hospital A",
        seeded.alex.clone(),
    )?);
    personas.push(persona(
        a,
        "Morgan, the program coordinator at hospital A",
        seeded.morgan.clone(),
    )?);
    personas.push(persona(
        b,
        "Jordan, a peer supporter at hospital B",
        seeded.b_nurse.clone(),
    )?);
    personas.push(persona(
        steward,
        "the steward's admin",
        admin_of(steward_admin)?,
    )?);
    Ok(personas)
}

/// The shell commands that walk an introduction between the hospitals.
fn commands(
    nodes: &[DemoNode],
    steward_admin: &Principal,
    seeded: &Seeded,
) -> anyhow::Result<Vec<String>> {
    let (a, b, steward) = (&nodes[1].state, &nodes[2].state, &nodes[0].state);
    let request_id = &seeded.request_id;
    // Accounts made just now: their access version is the first, 0.
    let a_token = a.tokens.issue_for_user(&seeded.nurse_a, 0)?.token;
    let b_token = b.tokens.issue_for_user(&seeded.b_nurse, 0)?.token;
    let steward_token = steward
        .tokens
        .issue_for_user(
            match steward_admin {
                Principal::User(u) => u,
                _ => return Err(anyhow!("demo: the steward admin is not a user")),
            },
            0,
        )?
        .token;
    let (sa, aa, ba) = (nodes[0].addr, nodes[1].addr, nodes[2].addr);
    let curl = |addr: std::net::SocketAddr, token: &str, query: &str| {
        let body = json!({ "query": query }).to_string();
        format!(
            "curl -s http://{addr}/graphql -H 'content-type: application/json' -H \"authorization: Bearer ${token}\" -d '{body}'"
        )
    };
    let echo = |c: String| format!("{c}; echo");
    let intro_ids = curl(ba, "B_TOKEN", "{ myIntroductions { id } }");
    let commands = vec![
        format!("export A_TOKEN={a_token} B_TOKEN={b_token} STEWARD_TOKEN={steward_token}"),
        echo(curl(
            aa,
            "A_TOKEN",
            &format!(
                "mutation {{ findOutsidePeers(requestId: \"{request_id}\", timeZone: \"America/New_York\") {{ candidates {{ institution nodeId handle profession specialty languages reasons }} members {{ name outcome elapsedMs }} }} }}"
            ),
        )),
        echo(curl(
            aa,
            "A_TOKEN",
            "{ federation { resources(first: 10) { edges { node { originName resource { title summary } } } } trainers(first: 10) { edges { node { originName trainer { displayName organization topics } } } } } }",
        )),
        format!(
            "HANDLE=$({} | jq -r '.data.findOutsidePeers.candidates[0].handle')",
            curl(
                aa,
                "A_TOKEN",
                &format!(
                    "mutation {{ findOutsidePeers(requestId: \"{request_id}\") {{ candidates {{ handle }} }} }}"
                )
            )
        ),
        echo(format!(
            "jq -nc --arg h \"$HANDLE\" --arg q 'mutation($h: String!) {{ requestIntroduction(requestId: \"{request_id}\", nodeId: \"hospital-b.demo.local\", handle: $h, share: {{firstName: \"Casey\", contact: \"pager 4471\"}}) {{ state }} }}' '{{query: $q, variables: {{h: $h}}}}' | curl -s http://{aa}/graphql -H 'content-type: application/json' -H \"authorization: Bearer $A_TOKEN\" -d @-"
        )),
        echo(format!(
            "for i in $(seq 40); do {intro_ids} | jq -e '.data.myIntroductions | length > 0' >/dev/null && break; sleep 0.5; done; {}",
            curl(
                ba,
                "B_TOKEN",
                "{ myIntroductions { id state firstName contact peerNode } }"
            )
        )),
        format!("INTRO=$({intro_ids} | jq -r '.data.myIntroductions[0].id')"),
        echo(format!(
            "jq -nc --arg i \"$INTRO\" '{{query: \"mutation($i: ID!) {{ respondToIntroduction(id: $i, accept: true) {{ state }} }}\", variables: {{i: $i}}}}' | curl -s http://{ba}/graphql -H 'content-type: application/json' -H \"authorization: Bearer $B_TOKEN\" -d @-"
        )),
        echo(format!(
            "for i in $(seq 40); do {} | grep -q SUPPORTED_OUTSIDE && break; sleep 0.5; done; {}",
            curl(
                aa,
                "A_TOKEN",
                &format!("{{ supportRequest(id: \"{request_id}\") {{ state }} }}")
            ),
            curl(
                aa,
                "A_TOKEN",
                &format!(
                    "{{ supportRequest(id: \"{request_id}\") {{ state }} introductionsForRequest(requestId: \"{request_id}\") {{ state peerNode }} }}"
                )
            )
        )),
        echo(curl(
            sa,
            "STEWARD_TOKEN",
            "{ federation { members { nodeId name status } } }",
        )),
    ];
    Ok(commands)
}

fn instructions(
    dir: &std::path::Path,
    nodes: &[DemoNode],
    personas: &[(String, String)],
    commands: &[String],
) -> String {
    let (steward, a, b) = (&nodes[0].state, &nodes[1].state, &nodes[2].state);
    let (sa, aa, ba) = (nodes[0].addr, nodes[1].addr, nodes[2].addr);
    format!(
        "Alongside demo: a steward and two hospitals on this machine, federated.\n\
         Data: {dir}  (Ctrl-C stops the nodes; the directory stays for you to inspect)\n\n\
         \x20 steward     http://{sa}   {sn}\n\
         \x20 hospital A  http://{aa}   {an}   GraphiQL: http://{aa}/graphiql\n\
         \x20 hospital B  http://{ba}   {bn}   GraphiQL: http://{ba}/graphiql\n\n\
         In a browser, sign in as (demo only; each link works for this run):\n{people}\n\n\
         Or paste these into another terminal, in order (needs curl and jq; tokens last 12 hours):\n\n\
         # Sign-in tokens: Casey (a nurse at A), Jordan (a peer supporter at B), the steward's admin\n{}\n\n\
         # 1. Casey asked for a peer outside her hospital. A asks every member at once; B answers\n\
         #    with anonymous candidates (no names), inside a 3-second deadline.\n{}\n\n\
         # 2. The resource and trainer directory of the whole network, served from A's cache\n{}\n\n\
         # 3. Casey picks the first candidate and asks for an introduction, sharing only a first\n\
         #    name and a pager number\n{}\n{}\n\n\
         # 4. At B, Jordan sees the introduction and accepts it\n{}\n{}\n{}\n\n\
         # 5. Back at A, Casey's request is accepted (she also gets an email)\n{}\n\n\
         # 6. The steward's view of its members\n{}\n",
        commands[0],
        commands[1],
        commands[2],
        commands[3],
        commands[4],
        commands[5],
        commands[6],
        commands[7],
        commands[8],
        commands[9],
        dir = dir.display(),
        people = personas
            .iter()
            .map(|(who, link)| format!("  {who}:\n    {link}"))
            .collect::<Vec<_>>()
            .join("\n"),
        sn = steward.config.node.institution_name,
        an = a.config.node.institution_name,
        bn = b.config.node.institution_name,
    )
}

/// `alongside demo`: starts everything, prints what to try, and runs until Ctrl-C.
pub fn run(opts: DemoOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        let demo = start(opts).await?;
        println!("{}", demo.instructions);
        println!("The nodes' log: {}", demo.dir.join("demo.log").display());
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = terminate.recv() => {}
        }
        eprintln!("stopping the demo");
        for n in &demo.nodes {
            n.handle.stop(true).await;
        }
        Ok(())
    });
    // The sync loops and workers end with the runtime; none is waited for past this.
    runtime.shutdown_timeout(Duration::from_secs(2));
    result
}
