//! Moving addresses in state (`state mv`, `[[moved]]` entries): every resource under the old address gets
//! the new one, and so does every reference to it — other resources' `dependencies` (in every stack,
//! because destroy order comes from them) and pending creates. AWS is not touched.

use super::State;
use crate::address::{self, Shape};
use indexmap::IndexMap;

/// Why a move cannot be made. Each message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("{0}")]
    BadAddress(String),
    #[error("{from} is {}, {to} is {}: a move keeps what a resource is; to change its kind, remove it from state and import the new one", .from_shape.describe(), .to_shape.describe())]
    OtherKind {
        from: String,
        to: String,
        from_shape: Shape,
        to_shape: Shape,
    },
    #[error("{from} is not in state (`landfall state list` shows what is)")]
    NotInState { from: String },
    #[error(
        "{to} is already in state ({existing}); remove it first (`landfall state rm`) or choose another address"
    )]
    Exists { to: String, existing: String },
    #[error("environment has no stack `{stack}` (addresses start with their stack)")]
    NoStack { stack: String },
    #[error("{from} and {to} are the same address")]
    Same { from: String, to: String },
}

/// One resource that moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub from: String,
    pub to: String,
}

/// Checks that `from` and `to` name the same kind of thing (a resource of one kind, a module instance,
/// a stack).
pub fn check_shapes(from: &str, to: &str) -> Result<(), MoveError> {
    let from_shape = address::shape(from).map_err(MoveError::BadAddress)?;
    let to_shape = address::shape(to).map_err(MoveError::BadAddress)?;
    if from == to {
        return Err(MoveError::Same {
            from: from.into(),
            to: to.into(),
        });
    }
    if from_shape != to_shape {
        return Err(MoveError::OtherKind {
            from: from.into(),
            to: to.into(),
            from_shape,
            to_shape,
        });
    }
    Ok(())
}

/// Moves every resource at or under `from` to the same place under `to`, across stacks if `to` is in
/// another one. `states` holds every stack of the environment (an empty [`State`] for stacks without
/// one). Either everything moves or nothing does.
pub fn move_addresses(
    states: &mut IndexMap<String, State>,
    from: &str,
    to: &str,
) -> Result<Vec<Moved>, MoveError> {
    check_shapes(from, to)?;
    let to_stack = address::stack_of(to);
    if !states.contains_key(to_stack) {
        return Err(MoveError::NoStack {
            stack: to_stack.into(),
        });
    }
    let moving: Vec<Moved> = states
        .values()
        .flat_map(|s| &s.resources)
        .filter_map(|r| {
            address::rebase(&r.address, from, to).map(|new| Moved {
                from: r.address.clone(),
                to: new,
            })
        })
        .collect();
    // A create still in progress (an account) has a pending entry and no resource yet: it moves too.
    let pending_only = states
        .values()
        .flat_map(|s| &s.pending)
        .any(|p| address::covers(from, &p.address));
    if moving.is_empty() && !pending_only {
        return Err(MoveError::NotInState { from: from.into() });
    }
    let staying = states
        .values()
        .flat_map(|s| &s.resources)
        .filter(|r| !address::covers(from, &r.address));
    if let Some(r) = staying
        .clone()
        .find(|r| address::covers(to, &r.address) || address::covers(&r.address, to))
    {
        return Err(MoveError::Exists {
            to: to.into(),
            existing: r.address.clone(),
        });
    }
    // A resource keeps its kind; the shape check covers this, but a state edited by hand may not agree.
    for m in &moving {
        let r = states
            .values()
            .flat_map(|s| &s.resources)
            .find(|r| r.address == m.from)
            .expect("found above");
        if address::shape(&m.to) != Ok(Shape::Resource(r.kind.clone())) {
            return Err(MoveError::OtherKind {
                from: m.from.clone(),
                to: m.to.clone(),
                from_shape: Shape::Resource(r.kind.clone()),
                to_shape: address::shape(&m.to).map_err(MoveError::BadAddress)?,
            });
        }
    }
    let rename = |a: &str| address::rebase(a, from, to);
    let mut taken = Vec::new();
    let mut pending = Vec::new();
    for state in states.values_mut() {
        let (out, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut state.resources)
            .into_iter()
            .partition(|r| address::covers(from, &r.address));
        state.resources = keep;
        taken.extend(out);
        let (out, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut state.pending)
            .into_iter()
            .partition(|p| address::covers(from, &p.address));
        state.pending = keep;
        pending.extend(out);
    }
    let target = states.get_mut(to_stack).expect("checked above");
    for mut r in taken {
        r.address = rename(&r.address).expect("covered");
        target.resources.push(r);
    }
    for mut p in pending {
        p.address = rename(&p.address).expect("covered");
        target.pending.push(p);
    }
    for state in states.values_mut() {
        for r in &mut state.resources {
            for d in &mut r.dependencies {
                if let Some(new) = rename(d) {
                    *d = new;
                }
            }
        }
    }
    Ok(moving)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Pending, ResourceState};

    fn res(address: &str, kind: &str, deps: &[&str]) -> ResourceState {
        ResourceState {
            address: address.into(),
            kind: kind.into(),
            id: format!("id-{address}"),
            account: None,
            region: None,
            attributes: Default::default(),
            dependencies: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn env() -> IndexMap<String, State> {
        let mut net = State::new("dev", "net");
        net.resources = vec![
            res("net.vpc.main", "vpc", &[]),
            res("net.subnet.a", "subnet", &["net.vpc.main"]),
            res("net.module.m[\"a\"].vpc.v", "vpc", &[]),
            res(
                "net.module.m[\"a\"].subnet.s[0]",
                "subnet",
                &["net.module.m[\"a\"].vpc.v"],
            ),
        ];
        net.pending.push(Pending {
            address: "net.vpc.main".into(),
            operation: "create".into(),
            request_id: "r".into(),
            started: "now".into(),
        });
        let mut app = State::new("dev", "app");
        app.resources = vec![res(
            "app.security_group.web",
            "security_group",
            &["net.vpc.main", "net.module.m[\"a\"].vpc.v"],
        )];
        IndexMap::from([("net".to_string(), net), ("app".to_string(), app)])
    }

    fn addresses(states: &IndexMap<String, State>, stack: &str) -> Vec<String> {
        states[stack]
            .resources
            .iter()
            .map(|r| r.address.clone())
            .collect()
    }

    #[test]
    fn a_move_rewrites_dependencies_in_every_stack_and_pending_entries() {
        let mut states = env();
        let moved = move_addresses(&mut states, "net.vpc.main", "net.vpc.core").unwrap();
        assert_eq!(
            moved,
            [Moved {
                from: "net.vpc.main".into(),
                to: "net.vpc.core".into()
            }]
        );
        assert!(addresses(&states, "net").contains(&"net.vpc.core".to_string()));
        assert_eq!(
            states["net"].resource("net.subnet.a").unwrap().dependencies,
            ["net.vpc.core"]
        );
        assert_eq!(
            states["app"].resources[0].dependencies,
            ["net.vpc.core", "net.module.m[\"a\"].vpc.v"]
        );
        assert_eq!(states["net"].pending[0].address, "net.vpc.core");
        assert_eq!(
            states["net"].resource("net.vpc.core").unwrap().id,
            "id-net.vpc.main"
        );
    }

    #[test]
    fn a_module_instance_moves_with_everything_under_it() {
        let mut states = env();
        let moved =
            move_addresses(&mut states, "net.module.m[\"a\"]", "net.module.m[\"b\"]").unwrap();
        assert_eq!(moved.len(), 2);
        let net = addresses(&states, "net");
        assert!(net.contains(&"net.module.m[\"b\"].vpc.v".to_string()));
        assert!(net.contains(&"net.module.m[\"b\"].subnet.s[0]".to_string()));
        assert!(!net.iter().any(|a| a.contains("m[\"a\"]")));
        let s = states["net"]
            .resource("net.module.m[\"b\"].subnet.s[0]")
            .unwrap();
        assert_eq!(s.dependencies, ["net.module.m[\"b\"].vpc.v"]);
        assert_eq!(
            states["app"].resources[0].dependencies[1],
            "net.module.m[\"b\"].vpc.v"
        );
    }

    #[test]
    fn a_move_to_another_stack_carries_the_resource_over() {
        let mut states = env();
        move_addresses(&mut states, "net.subnet.a", "app.subnet.a").unwrap();
        assert!(states["net"].resource("net.subnet.a").is_none());
        assert_eq!(
            states["app"].resource("app.subnet.a").unwrap().dependencies,
            ["net.vpc.main"]
        );
    }

    #[test]
    fn another_kind_an_existing_target_or_a_missing_source_is_refused_untouched() {
        let before = env();
        let mut states = before.clone();
        let e = move_addresses(&mut states, "net.vpc.main", "net.subnet.main").unwrap_err();
        assert!(matches!(e, MoveError::OtherKind { .. }), "{e}");
        assert!(e.to_string().contains("kind `vpc`"), "{e}");
        let e = move_addresses(&mut states, "net.module.m[\"a\"]", "net.vpc.x").unwrap_err();
        assert!(matches!(e, MoveError::OtherKind { .. }), "{e}");
        let e =
            move_addresses(&mut states, "net.vpc.main", "net.module.m[\"a\"].vpc.v").unwrap_err();
        assert!(matches!(e, MoveError::Exists { .. }), "{e}");
        let e = move_addresses(&mut states, "net.vpc.main", "net.vpc.main").unwrap_err();
        assert!(matches!(e, MoveError::Same { .. }), "{e}");
        let e = move_addresses(&mut states, "net.vpc.gone", "net.vpc.x").unwrap_err();
        assert!(matches!(e, MoveError::NotInState { .. }), "{e}");
        let e = move_addresses(&mut states, "net.vpc.main", "nope.vpc.x").unwrap_err();
        assert!(matches!(e, MoveError::NoStack { .. }), "{e}");
        assert_eq!(states, before);
    }

    #[test]
    fn a_create_in_progress_moves_with_its_pending_entry() {
        let mut states = env();
        states["net"]
            .resources
            .retain(|r| r.address != "net.vpc.main");
        let moved = move_addresses(&mut states, "net.vpc.main", "net.vpc.core").unwrap();
        assert!(moved.is_empty());
        assert_eq!(states["net"].pending[0].address, "net.vpc.core");
    }

    #[test]
    fn a_resource_can_gain_an_index() {
        let mut states = env();
        move_addresses(&mut states, "net.vpc.main", "net.vpc.main[\"eu\"]").unwrap();
        assert_eq!(
            states["net"].resource("net.subnet.a").unwrap().dependencies,
            ["net.vpc.main[\"eu\"]"]
        );
    }
}
