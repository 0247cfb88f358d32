//! Whether approvals satisfy a set of gates by distinct people: one person's approval counts
//! toward one gate only. Each gate is expanded into `quorum` seats and people are matched to
//! seats (augmenting paths), so overlapping gates are filled whenever an assignment exists.

/// One gate to fill: who may sit in it and how many seats it has.
#[derive(Debug, Clone, Copy)]
pub struct Seats<'a> {
    /// Who is eligible.
    pub members: &'a [String],
    /// Seats to fill.
    pub quorum: u32,
}

/// Who fills each gate (the matching found); a gate is satisfied when its list has
/// `quorum` names.
pub fn assign(gates: &[Seats<'_>], approvers: &[String]) -> Vec<Vec<String>> {
    // seat index → gate index
    let seat_gate: Vec<usize> = gates
        .iter()
        .enumerate()
        .flat_map(|(g, gate)| std::iter::repeat_n(g, gate.quorum as usize))
        .collect();
    let mut seat_holder: Vec<Option<usize>> = vec![None; seat_gate.len()];
    let mut people: Vec<&String> = Vec::new();
    for person in approvers {
        if !people.contains(&person) {
            people.push(person);
        }
    }
    for person in 0..people.len() {
        let mut visited = vec![false; seat_gate.len()];
        augment(
            person,
            &people,
            gates,
            &seat_gate,
            &mut seat_holder,
            &mut visited,
        );
    }
    let mut filled = vec![Vec::new(); gates.len()];
    for (seat, holder) in seat_holder.iter().enumerate() {
        if let Some(person) = holder {
            filled[seat_gate[seat]].push(people[*person].clone());
        }
    }
    filled
}

fn augment(
    person: usize,
    people: &[&String],
    gates: &[Seats<'_>],
    seat_gate: &[usize],
    seat_holder: &mut [Option<usize>],
    visited: &mut [bool],
) -> bool {
    for seat in 0..seat_gate.len() {
        if visited[seat] || !gates[seat_gate[seat]].members.contains(people[person]) {
            continue;
        }
        visited[seat] = true;
        let free = match seat_holder[seat] {
            None => true,
            Some(other) => augment(other, people, gates, seat_gate, seat_holder, visited),
        };
        if free {
            seat_holder[seat] = Some(person);
            return true;
        }
    }
    false
}

/// True when `approvers` fill every seat of every gate.
pub fn satisfied(gates: &[Seats<'_>], approvers: &[String]) -> bool {
    assign(gates, approvers)
        .iter()
        .zip(gates)
        .all(|(filled, gate)| filled.len() >= gate.quorum as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_person_fills_one_gate_only() {
        let finance = names(&["alice", "bob", "carol"]);
        let manager = names(&["dave", "carol"]);
        let gates = [
            Seats {
                members: &finance,
                quorum: 1,
            },
            Seats {
                members: &manager,
                quorum: 1,
            },
        ];
        assert!(!satisfied(&gates, &names(&["carol"])));
        assert!(satisfied(&gates, &names(&["carol", "alice"])));
        assert!(satisfied(&gates, &names(&["carol", "dave"])));
        // carol first takes finance; dave arriving later must not be stuck: both fill.
        assert!(satisfied(&gates, &names(&["carol", "dave"])));
        // The matching moves carol to manager when alice arrives for finance.
        let filled = assign(&gates, &names(&["carol", "alice"]));
        assert_eq!(filled, vec![names(&["alice"]), names(&["carol"])]);
        assert!(!satisfied(&gates, &names(&["alice", "bob"])));
        assert!(!satisfied(&gates, &names(&["carol", "carol"])));
    }

    #[test]
    fn quorum_counts_distinct_people() {
        let team = names(&["a", "b", "c"]);
        let gates = [Seats {
            members: &team,
            quorum: 2,
        }];
        assert!(!satisfied(&gates, &names(&["a"])));
        assert!(!satisfied(&gates, &names(&["a", "a"])));
        assert!(satisfied(&gates, &names(&["a", "c"])));
        assert!(!satisfied(&gates, &names(&["a", "x"])));
    }

    #[test]
    fn three_overlapping_gates_need_an_augmenting_chain() {
        let g1 = names(&["p", "q"]);
        let g2 = names(&["q", "r"]);
        let g3 = names(&["p"]);
        let gates = [
            Seats {
                members: &g1,
                quorum: 1,
            },
            Seats {
                members: &g2,
                quorum: 1,
            },
            Seats {
                members: &g3,
                quorum: 1,
            },
        ];
        // p takes g1 first, q takes g2; r arrives, then p must move to g3 and q to g1.
        assert!(satisfied(&gates, &names(&["p", "q", "r"])));
        assert!(!satisfied(&gates, &names(&["p", "q"])));
        assert!(satisfied(&[], &[]));
    }
}
