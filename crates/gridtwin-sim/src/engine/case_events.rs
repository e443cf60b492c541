//! A case's own steps: intake, verification, the ladder, dispatch, a crew's arrival
//! and handling, feedback, the check, the deadline. One method per event.

use super::*;

impl Run<'_> {
    pub(super) fn on_intake(&mut self, t: i64, id: u32) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            workers,
            staff,
            ..
        } = self;
        let sc = &world.scenario;
        let centre = sc.centre.as_ref();
        let key = cases[id as usize].key;
        let c = &mut cases[id as usize];
        if c.intake != NONE {
            return; // taken in already by another channel
        }
        c.intake = t;
        let cat = &world.categories[c.category as usize];
        let deadline = world
            .calendar
            .add_hours(cat.time_basis, t, cat.time_limit_hours);
        c.deadline = deadline;
        c.amber_at =
            world
                .calendar
                .add_hours(cat.time_basis, t, cat.time_limit_hours * sc.amber_fraction);
        c.verify_due = world.due(cat, t, cat.stage_limits.verify_hours);
        queue.schedule_in_lane(1 + c.category as usize, deadline, Ev::Deadline(id));
        if centre.is_some() {
            // registered by an intake operator first (then verified)
            if staff.station_free[0] > 0 {
                staff.station_free[0] -= 1;
                queue.schedule(
                    t + station_time(world, (seed, rep), 0, c),
                    Ev::StationDone(0, id),
                );
            } else {
                staff.station_queue[0].push_back(id);
            }
            return;
        }
        match worker_of(world, c) {
            // a report from the hotline or a camera: the grid's worker goes to
            // verify it on the spot
            Some(w) if c.source != 0 => workers.tasks[w].push_back((id, false)),
            _ => queue.schedule(
                t + draw(&sc.steps.verify, uniform(seed, rep, key, P_VERIFY, 0)),
                Ev::Verified(id),
            ),
        }
    }

    pub(super) fn on_verified(&mut self, t: i64, id: u32) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            staff,
            ..
        } = self;
        let sc = &world.scenario;
        let key = cases[id as usize].key;
        let c = &mut cases[id as usize];
        c.verified = t;
        let cat = &world.categories[c.category as usize];
        if sc.steps.not_registered > 0.0
            && uniform(seed, rep, key, P_REGISTER, 0) < sc.steps.not_registered
        {
            c.declined = true;
            c.closed = t;
        } else if let Some(stage) = cat.ladder.first() {
            // (no dispatch limit on a ladder: its delays are the policy)
            queue.schedule(
                t + draw(&stage.delay, uniform(seed, rep, key, P_LADDER, 0)),
                Ev::Ladder(id, 0),
            );
        } else {
            c.dispatch_due = world.due(cat, t, cat.stage_limits.dispatch_hours);
            send_on(
                world,
                c,
                id,
                t,
                (seed, rep),
                &mut staff.station_free,
                &mut staff.station_queue,
                queue,
            );
        }
    }

    pub(super) fn on_ladder(&mut self, t: i64, id: u32, i: u8) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            workers,
            staff,
            ..
        } = self;
        let sc = &world.scenario;
        let key = cases[id as usize].key;
        let c = &mut cases[id as usize];
        let cat = &world.categories[c.category as usize];
        c.ladder = i + 1;
        if uniform(seed, rep, key, P_LADDER, 100 + i as u64) < cat.ladder[i as usize].compliance {
            // the party says it complied: a grid worker goes to check
            c.complied = i;
            match worker_of(world, c) {
                Some(w) => workers.tasks[w].push_back((id, true)),
                None => queue.schedule(
                    t + draw(&sc.steps.check, uniform(seed, rep, key, P_CHECK, 0)),
                    Ev::Checked(id),
                ),
            }
        } else if let Some(next) = cat.ladder.get(i as usize + 1) {
            queue.schedule(
                t + draw(&next.delay, uniform(seed, rep, key, P_LADDER, i as u64 + 1)),
                Ev::Ladder(id, i + 1),
            );
        } else {
            send_on(
                world,
                c,
                id,
                t,
                (seed, rep),
                &mut staff.station_free,
                &mut staff.station_queue,
                queue,
            );
        }
    }

    pub(super) fn on_dispatch(&mut self, t: i64, id: u32) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            crew,
            requests,
            contention,
            queues,
            ..
        } = self;
        let sc = &world.scenario;
        let n_crews = world.crews.len();
        let c = &mut cases[id as usize];
        let cat = &world.categories[c.category as usize];
        let q = cat.department;
        // the first dispatch stands (a reworked case comes back here)
        if c.dispatched == NONE {
            c.dispatched = t;
            c.handle_due = world.due(cat, t, cat.stage_limits.handle_hours);
            // 延期: the department applies for more time, and is granted it
            if sc.steps.extension > 0.0
                && t < c.deadline
                && uniform(seed, rep, c.key, P_EXTEND, 0) < sc.steps.extension
            {
                c.extended = true;
                c.deadline =
                    world
                        .calendar
                        .add_hours(cat.time_basis, c.deadline, sc.steps.extension_hours);
            }
        }
        c.queued_at = t;
        // Nearest free crew on shift of the department (straight line; the
        // road network then gives the travel time); for territorial cases,
        // grid-level crews first.
        let [terr, other] = &crew.free[q];
        // (a case the street forwarded is the owner department's, not the beat's)
        let pick = if cat.routing == Routing::Territory && !c.forwarded {
            // the free grid-level crew of the case's beat (the nearest of
            // them), then the department's other crews, then any grid crew
            let own = world
                .beat_crews
                .get(c.grid as usize)
                .into_iter()
                .flatten()
                .filter(|&&k| terr.contains(k))
                .map(|&k| {
                    let p = crew.at[k as usize].xy;
                    (k, (p.0 - c.xy.0).hypot(p.1 - c.xy.1))
                })
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            own.or_else(|| other.nearest(c.xy))
                .or_else(|| terr.nearest(c.xy))
        } else {
            match (terr.nearest(c.xy), other.nearest(c.xy)) {
                (Some(a), Some(b)) => Some(if (a.1, a.0) <= (b.1, b.0) { a } else { b }),
                (a, b) => a.or(b),
            }
        };
        // An emergency with no free crew takes the nearest crew of its
        // department on lower-priority work (ties: lowest crew index).
        let (c_priority, c_xy) = (c.priority, c.xy);
        let pick = pick.map(|(k, _)| k as usize).or_else(|| {
            let at = sc.dispatch.preempt_at_priority?;
            if c_priority < at {
                return None;
            }
            let mut best: Option<(f64, usize)> = None;
            for k in 0..n_crews {
                let v = crew.case[k];
                if world.crews[k].department != q || v == u32::MAX {
                    continue;
                }
                let vc = &cases[v as usize];
                if vc.priority >= c_priority || vc.handled != NONE {
                    continue;
                }
                let p = if vc.arrived != NONE {
                    vc.xy
                } else {
                    crew.at[k].xy
                };
                let d = (p.0 - c_xy.0).hypot(p.1 - c_xy.1);
                if best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, k));
                }
            }
            let (_, k) = best?;
            // Take the crew off its case: that case waits again.
            let v = crew.case[k] as usize;
            let vc = &mut cases[v];
            add_busy(
                world,
                &mut crew.busy_secs,
                &mut crew.shift_busy,
                k,
                vc.assigned,
                t,
            );
            if vc.arrived != NONE {
                crew.at[k] = Place {
                    at: vc.at,
                    node: vc.node,
                    xy: vc.xy,
                };
            }
            vc.gen = vc.gen.wrapping_add(1);
            vc.eta = NONE;
            vc.preempted = vc.preempted.saturating_add(1);
            vc.assigned = NONE;
            vc.arrived = NONE;
            vc.crew = u32::MAX;
            vc.queued_at = t;
            queues[q].insert(QueueKey {
                neg_priority: -(vc.priority as i8),
                since: t,
                case: v as u32,
            });
            crew.busy[k] = false;
            Some(k)
        });
        let c = &mut cases[id as usize];
        match pick {
            Some(k) => {
                crew.free[q][slot(world, k)].remove(k as u32);
                crew.busy[k] = true;
                set_off(
                    world,
                    (seed, rep),
                    cases,
                    queue,
                    requests,
                    contention,
                    &mut crew.case,
                    (id, k, crew.at[k], t),
                );
            }
            None => {
                queues[q].insert(QueueKey {
                    neg_priority: -(c.priority as i8),
                    since: t,
                    case: id,
                });
            }
        }
    }

    pub(super) fn on_arrive(&mut self, t: i64, id: u32, gen: u8) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run { queue, cases, .. } = self;
        let key = cases[id as usize].key;
        let c = &mut cases[id as usize];
        if c.gen != gen {
            return; // the crew was taken off this case on its way
        }
        c.arrived = t;
        if c.first_arrived == NONE {
            c.first_arrived = t;
        }
        let cat = &world.categories[c.category as usize];
        // (a pre-empted case's handling starts over, with a fresh draw)
        queue.schedule(
            t + draw(
                &cat.handle,
                uniform(
                    seed,
                    rep,
                    key,
                    P_HANDLE,
                    c.rework as u64 * PASS + c.preempted as u64,
                ),
            ),
            Ev::Handled(id, gen),
        );
    }

    pub(super) fn on_handled(&mut self, t: i64, id: u32, gen: u8) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue, cases, crew, ..
        } = self;
        let sc = &world.scenario;
        let key = cases[id as usize].key;
        let c = &mut cases[id as usize];
        if c.gen != gen {
            return; // taken off while handling
        }
        c.handled = t;
        let k = c.crew as usize;
        crew.case[k] = u32::MAX;
        crew.busy[k] = false;
        add_busy(
            world,
            &mut crew.busy_secs,
            &mut crew.shift_busy,
            k,
            c.assigned,
            t,
        );
        crew.at[k] = Place {
            at: c.at,
            node: c.node,
            xy: c.xy,
        };
        let pass = c.rework as u64;
        let fb = t + draw(
            &sc.steps.feedback,
            uniform(seed, rep, key, P_FEEDBACK, pass),
        );
        c.feedback = fb;
        let cat = &world.categories[c.category as usize];
        c.check_due = world.due(cat, fb, cat.stage_limits.check_hours);
        if worker_of(world, c).is_some() {
            queue.schedule(fb, Ev::Feedback(id));
        } else {
            let ck = fb + draw(&sc.steps.check, uniform(seed, rep, key, P_CHECK, pass));
            queue.schedule(ck, Ev::Checked(id));
        }
        queue.schedule(t, Ev::CrewFree(k as u32));
    }

    pub(super) fn on_checked(&mut self, t: i64, id: u32) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            recurrences,
            workers,
            staff,
            ..
        } = self;
        let sc = &world.scenario;
        let c = &mut cases[id as usize];
        let key = c.key;
        let r = world.categories[c.category as usize].check_failure;
        // the pass's own draw: rework k is decided by draw k
        if r > 0.0 && uniform(seed, rep, key, P_CHECK_FAIL, c.rework as u64) < r {
            // not solved (返工): back to the department's queue, deadline kept;
            // a compliance that did not hold sends a crew after all
            c.rework = c.rework.saturating_add(1);
            let was_compliance = c.complied != u8::MAX;
            c.complied = u8::MAX;
            c.gen = c.gen.wrapping_add(1);
            c.crew = u32::MAX;
            c.eta = NONE;
            c.assigned = NONE;
            c.arrived = NONE;
            c.handled = NONE;
            c.feedback = NONE;
            // (the next pass's check is due anew: no check time until it is made)
            c.checked = NONE;
            if was_compliance {
                // the party did not comply: the case is dispatched as at the end
                // of the ladder (dispatchers, routing, hand-overs)
                send_on(
                    world,
                    c,
                    id,
                    t,
                    (seed, rep),
                    &mut staff.station_free,
                    &mut staff.station_queue,
                    queue,
                );
            } else {
                queue.schedule(t, Ev::Dispatch(id));
            }
        } else {
            c.checked = t;
            c.closed = t;
            // a compliance that did not last: the problem comes back
            if let (Some(r), true) = (&sc.recurrence, c.complied != u8::MAX) {
                if uniform(seed, rep, key, P_RECUR, 0) < r.after_compliance {
                    let at = t + draw(&r.delay, uniform(seed, rep, key, P_RECUR, 1));
                    let new_key = incident_key(RECURRENCE_STREAM ^ key, 0);
                    let (category, grid, place, priority) = (
                        c.category as usize,
                        c.grid as usize,
                        c.at,
                        c.arrival_priority,
                    );
                    let (intake, source, call_at) = discover(world, seed, rep, new_key, at, grid);
                    let mut n = new_case(
                        world,
                        new_key,
                        (at, category, grid, place, priority),
                        source,
                    );
                    n.recurrence_of = id;
                    let new_id = cases.len() as u32;
                    if let Some(list) = workers.grid_pending.get_mut(grid) {
                        list.push(new_id); // (seen by a worker once it occurs)
                    }
                    (*recurrences) += 1;
                    if intake < world.end {
                        queue.schedule(intake, Ev::Intake(new_id));
                    }
                    if call_at != NONE && call_at < world.end {
                        n.call_at = call_at;
                        queue.schedule(call_at, Ev::Call(new_id));
                    }
                    cases.push(n);
                }
            }
        }
    }

    pub(super) fn on_deadline(&mut self, t: i64, id: u32) {
        let Ctx { world, .. } = self.ctx;
        let Run {
            queue,
            cases,
            queues,
            ..
        } = self;
        let c = &mut cases[id as usize];
        if c.deadline > t {
            // extended since: falls due later (outside the category's lane,
            // whose times only grow)
            queue.schedule(c.deadline, Ev::Deadline(id));
            return;
        }
        if c.closed == NONE {
            c.escalated = true;
            let before = c.priority;
            c.priority = c.priority.max(1);
            // A queued case moves ahead of routine ones.
            let q = world.categories[c.category as usize].department;
            let old = QueueKey {
                neg_priority: -(before as i8),
                since: c.queued_at,
                case: id,
            };
            if before != c.priority && queues[q].remove(&old) {
                queues[q].insert(QueueKey {
                    neg_priority: -(c.priority as i8),
                    since: c.queued_at,
                    case: id,
                });
            }
        }
    }

    pub(super) fn on_feedback(&mut self, _t: i64, id: u32) {
        let Ctx { world, .. } = self.ctx;
        let Run { cases, workers, .. } = self;
        if let Some(w) = worker_of(world, &cases[id as usize]) {
            workers.tasks[w].push_back((id, true));
        }
    }
}
