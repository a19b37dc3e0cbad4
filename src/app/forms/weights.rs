//! A weight per version, edited like sliders: a change to one is balanced by the others so
//! the total stays 100 — first by the versions the user has not set, evenly, then by those
//! set longest ago; locked versions never move. The balance is worked out from the weights
//! as they were when the user began on this version, so typing `8` then `0` ends where
//! typing `80` at once would.

use crate::mesh::rules::validate::WeightInput;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightsDraft {
    pub weights: Vec<WeightInput>,
    pub locked: Vec<bool>,
    /// Versions in the order the user last set them, oldest first.
    touched: Vec<usize>,
    /// The version being edited and every weight as it was before.
    baseline: Option<(usize, Vec<i64>)>,
}

impl WeightsDraft {
    /// Everything to the first version: where a service without rules sends traffic is
    /// closest to "all to the stable version".
    pub fn new(versions: &[String]) -> Self {
        let weights = versions
            .iter()
            .enumerate()
            .map(|(i, version)| WeightInput {
                version: version.clone(),
                text: if i == 0 { "100" } else { "0" }.to_owned(),
            })
            .collect();
        WeightsDraft {
            weights,
            locked: vec![false; versions.len()],
            touched: Vec::new(),
            baseline: None,
        }
    }

    /// The versions at the weights `current` gives them (0 for those it does not name).
    pub fn at(versions: &[String], current: &[(String, u32)]) -> Self {
        let mut draft = WeightsDraft::new(versions);
        for weight in &mut draft.weights {
            let value = current
                .iter()
                .find(|(version, _)| *version == weight.version)
                .map_or(0, |(_, w)| *w);
            weight.text = value.to_string();
        }
        draft
    }

    pub fn len(&self) -> usize {
        self.weights.len()
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// The weight as a number; text that does not read counts as 0 when balancing.
    pub fn value(&self, i: usize) -> u32 {
        self.weights
            .get(i)
            .and_then(|w| w.text.trim().parse::<u32>().ok())
            .unwrap_or(0)
    }

    pub fn is_locked(&self, i: usize) -> bool {
        self.locked.get(i).copied().unwrap_or(false)
    }

    pub fn toggle_lock(&mut self, i: usize) {
        if let Some(lock) = self.locked.get_mut(i) {
            *lock = !*lock;
        }
        // What may move changed: the next edit balances from the weights as they are now.
        self.baseline = None;
    }

    /// Starts (or goes on with) an edit of version `i`.
    fn begin(&mut self, i: usize) {
        if self.baseline.as_ref().is_some_and(|(at, _)| *at == i) {
            return;
        }
        let values = (0..self.len()).map(|j| i64::from(self.value(j))).collect();
        self.baseline = Some((i, values));
        self.touched.retain(|t| *t != i);
        self.touched.push(i);
    }

    /// Moves a slider by `delta`, within 0 and what the locked versions leave.
    pub fn nudge(&mut self, i: usize, delta: i32) {
        if i >= self.len() || self.is_locked(i) {
            return;
        }
        let before = self.value(i);
        let others_locked: u32 = (0..self.len())
            .filter(|j| *j != i && self.is_locked(*j))
            .map(|j| self.value(j))
            .sum();
        // Up only as far as the locked versions leave room; the unlocked ones give way.
        let ceiling = 100u32.saturating_sub(others_locked).max(before);
        let wanted = i64::from(before) + i64::from(delta);
        let after = u32::try_from(wanted.clamp(0, i64::from(ceiling))).unwrap_or(before);
        self.set(i, after);
    }

    /// Sets the text of a weight (typing); when it reads as a number the others balance.
    pub fn type_text(&mut self, i: usize, text: String) {
        if i >= self.len() {
            return;
        }
        self.begin(i);
        self.weights[i].text = text;
        self.balance(i);
    }

    fn set(&mut self, i: usize, value: u32) {
        self.type_text(i, value.to_string());
    }

    /// Brings the total back to 100 by moving the other unlocked weights from where they
    /// were before this edit, one point at a time: the versions never set share evenly,
    /// then those set longest ago take the rest, in turn.
    fn balance(&mut self, changed: usize) {
        let Some((_, mut values)) = self.baseline.clone() else {
            return;
        };
        values[changed] = i64::from(self.value(changed));
        let mut slack = 100 - values.iter().sum::<i64>();
        let untouched: Vec<usize> = (0..self.len())
            .filter(|j| *j != changed && !self.is_locked(*j) && !self.touched.contains(j))
            .collect();
        let step = slack.signum();
        while slack != 0 {
            let mut moved = false;
            for j in &untouched {
                let next = values[*j] + step;
                if slack != 0 && (0..=100).contains(&next) {
                    values[*j] = next;
                    slack -= step;
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
        for j in self.touched.clone() {
            if j == changed || self.is_locked(j) {
                continue;
            }
            let next = (values[j] + slack).clamp(0, 100);
            slack -= next - values[j];
            values[j] = next;
        }
        for (j, value) in values.into_iter().enumerate() {
            if j != changed {
                self.weights[j].text = value.to_string();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> WeightsDraft {
        WeightsDraft::new(&["v1".into(), "v2".into(), "v3".into()])
    }

    fn values(draft: &WeightsDraft) -> Vec<u32> {
        (0..draft.len()).map(|i| draft.value(i)).collect()
    }

    /// Types `text` into weight `i` as a user would: clears it, then one digit at a time.
    fn type_weight(draft: &mut WeightsDraft, i: usize, text: &str) {
        while !draft.weights[i].text.is_empty() {
            let mut shorter = draft.weights[i].text.clone();
            shorter.pop();
            draft.type_text(i, shorter);
        }
        for c in text.chars() {
            let longer = format!("{}{c}", draft.weights[i].text);
            draft.type_text(i, longer);
        }
    }

    #[test]
    fn typing_80_then_20_gives_80_0_20() {
        let mut draft = draft();
        type_weight(&mut draft, 0, "80");
        assert_eq!(
            values(&draft),
            [80, 10, 10],
            "the untouched versions share the rest"
        );
        type_weight(&mut draft, 2, "20");
        assert_eq!(
            values(&draft),
            [80, 0, 20],
            "the version not set gives first"
        );
    }

    #[test]
    fn sliders_move_by_steps_and_the_others_balance() {
        let mut draft = draft();
        draft.nudge(1, 10);
        assert_eq!(values(&draft), [90, 10, 0]);
        draft.nudge(2, 1);
        assert_eq!(
            values(&draft),
            [89, 10, 1],
            "v1 was never set: it gives first"
        );
        draft.nudge(2, -50);
        assert_eq!(values(&draft), [90, 10, 0], "not below 0");
    }

    #[test]
    fn a_locked_version_never_moves_and_limits_the_others() {
        let mut draft = draft();
        draft.nudge(1, 30);
        draft.toggle_lock(1);
        assert!(draft.is_locked(1));
        draft.nudge(2, 100);
        assert_eq!(
            values(&draft),
            [0, 30, 70],
            "v3 takes only what v1 can give"
        );
        draft.nudge(1, 5);
        assert_eq!(values(&draft), [0, 30, 70], "a locked slider does not move");
        draft.toggle_lock(1);
        draft.nudge(1, 5);
        assert_eq!(values(&draft), [0, 35, 65]);
    }

    #[test]
    fn with_every_other_version_locked_the_total_shows_what_is_off() {
        let mut draft = WeightsDraft::new(&["v1".into(), "v2".into()]);
        draft.toggle_lock(1);
        draft.type_text(0, "70".into());
        assert_eq!(values(&draft), [70, 0], "nothing to balance with");
    }
}
