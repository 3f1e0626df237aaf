//! `switchboard graph`: the acme flows drawn as DOT, Mermaid and SVG (snapshots, and the SVG
//! read by an XML parser), and a heat map from a daemon's store after real chats.

mod serving;
mod support;
use serde_json::json;
use serving::*;
use support::*;

fn graph(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["graph"];
    all.extend_from_slice(args);
    switchboard(dir, &all)
}

#[test]
fn the_acme_inbound_flow_as_dot_and_mermaid() {
    let o = graph(&repo(), &["flows", "--flow", "inbound", "--format", "dot"]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    insta::assert_snapshot!("inbound_dot", stdout(&o));
    let o = graph(&repo(), &["flows", "--flow", "inbound", "--format", "mermaid"]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    insta::assert_snapshot!("inbound_mermaid", stdout(&o));
}

#[test]
fn every_acme_flow_draws_as_an_svg_an_xml_parser_reads() {
    let flows = ["inbound", "inbox"];
    for flow in flows {
        let o = graph(&repo(), &["flows", "--flow", flow]);
        assert_eq!(code(&o), 0, "{flow}: {}", both(&o));
        let svg = stdout(&o);
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{flow}: {e}\n{svg}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
        let nodes = root.children().filter(|n| n.has_tag_name("g")).count();
        let edges = root.children().filter(|n| n.has_tag_name("path")).count();
        assert!(nodes >= 3 && edges >= nodes - 1, "{flow}: {nodes} nodes, {edges} edges");
        assert!(svg.contains(&format!("aria-label=\"flow {flow}\"")), "{flow}");
    }
}

#[test]
fn graph_says_which_flows_there_are_when_none_or_a_wrong_one_is_named() {
    let o = graph(&repo(), &["flows"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(both(&o).contains("several flows: name one with --flow"), "{}", both(&o));
    assert!(both(&o).contains("`inbound`"), "{}", both(&o));
    let o = graph(&repo(), &["flows", "--flow", "nope"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(both(&o).contains("no flow `nope`"), "{}", both(&o));
    let empty = tempfile::tempdir().unwrap();
    let o = graph(&repo(), &["flows", "--flow", "inbound", "--data", empty.path().to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", both(&o));
    assert!(both(&o).contains("holds no store"), "{}", both(&o));
    let o = graph(&repo(), &["flows", "--flow", "inbound", "--format", "png"]);
    assert_eq!(code(&o), 2, "{}", both(&o));
}

const PROJECT: &str = r#"
skills support

queue support {
  skills support
}

flow chat_in on chat {
  waypoint start
  say "Hello."
  menu "Press 1 for support, 2 to leave." {
    1 "support" {
      waypoint chose_support
      queue support
    }
    2 "leave" {
      waypoint left
      say "Bye."
      end
    }
    timeout 30s retries 1 {
      queue support
    }
  }
}

entry chat "web" -> chat_in
"#;

#[test]
fn with_a_daemons_store_each_statement_and_edge_shows_how_many_contacts_took_it() {
    let dir = scratch(&[("main.flow", PROJECT), ("switchboard.toml", "new_chats_per_minute = 0\n")]);
    let data = tempfile::tempdir().unwrap();
    let d = start(dir.path(), data.path());
    rt().block_on(async {
        for (i, answer) in ["support", "2", "1", "support", "leave"].into_iter().enumerate() {
            let (mut c, _, _) = customer(&d.addr, &format!("c{i}")).await;
            until(&mut c, "message", Some("Press 1 for support, 2 to leave.")).await;
            put(&mut c, json!({"type": "message", "id": "m1", "text": answer})).await;
            if answer == "2" || answer == "leave" {
                until(&mut c, "ended", None).await;
            } else {
                until(&mut c, "ack", None).await;
            }
        }
    });
    // The store is read while the daemon runs (the graph opens it read-only).
    let data_dir = data.path().to_str().unwrap();
    let o = graph(dir.path(), &[".", "--format", "dot", "--data", data_dir]);
    assert_eq!(code(&o), 0, "{}", both(&o));
    let dot = stdout(&o);
    for wanted in [
        "label=\"start (5)\"",
        "label=\"say “Hello.” (5)\"",
        "label=\"chose_support (3)\"",
        "label=\"left (2)\"",
        "label=\"say “Bye.” (2)\"",
        "label=\"1 support (3)\"",
        "label=\"2 leave (2)\"",
    ] {
        assert!(dot.contains(wanted), "{wanted} not in\n{dot}");
    }
    // Nobody timed out: that edge is counted as none, and drawn cold.
    assert!(dot.contains("label=\"timeout (0)\""), "{dot}");
    drop(d);
}
