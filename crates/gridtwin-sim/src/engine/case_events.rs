//! A case's own steps: intake, verification, the ladder, dispatch, a crew's arrival
//! and handling, feedback, the check, the deadline. One method per event.

use super::*;

impl Run<'_> {
    pub(super) fn on_intake(&mut self, t: i64, id: CaseId) {
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
        let key = cases[id.ix()].key;
        let c = &mut cases[id.ix()];
        if c.intake.is_some() {
            return; // taken in already by another channel
        }
        c.intake = at(t);
        let cat = &world.categories[c.category as usize];
        let deadline = world
            .calendar
            .add_hours(cat.time_basis, t, cat.time_limit_hours);
        c.deadline = at(deadline);
        c.amber_at = at(world.calendar.add_hours(
            cat.time_basis,
            t,
            cat.time_limit_hours * sc.amber_fraction,
        ));
        c.verify_due = world.due(cat, t, cat.stage_limits.verify_hours);
        queue.schedule_in_lane(1 + c.category as usize, deadline, Ev::Deadline(id));
        if centre.is_some() {
            // registered by an intake operator first (then verified)
            let st = Station::Registration;
            if staff.station_free[st as usize] > 0 {
                staff.station_free[st as usize] -= 1;
                queue.schedule(
                    t + station_time(world, (seed, rep), st, c),
                    Ev::StationDone(st, id),
                );
            } else {
                staff.station_queue[st as usize].push_back(id);
            }
            return;
        }
        match worker_of(world, c) {
            // a report from the hotline or a camera: the grid's worker goes to
            // verify it on the spot
            Some(w) if c.source != IntakeSource::Patrol => workers.tasks[w].push_back((id, false)),
            _ => queue.schedule(
                t + draw(&sc.steps.verify, uniform(seed, rep, key, P_VERIFY, 0)),
                Ev::Verified(id),
            ),
        }
    }

    pub(super) fn on_verified(&mut self, t: i64, id: CaseId) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            staff,
            ..
        } = self;
        let sc = &world.scenario;
        let key = cases[id.ix()].key;
        let c = &mut cases[id.ix()];
        c.verified = at(t);
        let cat = &world.categories[c.category as usize];
        if sc.steps.not_registered > 0.0
            && uniform(seed, rep, key, P_REGISTER, 0) < sc.steps.not_registered
        {
            c.declined = true;
            c.closed = at(t);
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

    pub(super) fn on_ladder(&mut self, t: i64, id: CaseId, i: u8) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            workers,
            staff,
            ..
        } = self;
        let sc = &world.scenario;
        let key = cases[id.ix()].key;
        let c = &mut cases[id.ix()];
        let cat = &world.categories[c.category as usize];
        c.ladder = i + 1;
        if uniform(seed, rep, key, P_LADDER, 100 + i as u64) < cat.ladder[i as usize].compliance {
            // the party says it complied: a grid worker goes to check
            c.complied = Some(i);
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

    pub(super) fn on_dispatch(&mut self, t: i64, id: CaseId) {
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
        let c = &mut cases[id.ix()];
        let cat = &world.categories[c.category as usize];
        let q = cat.department;
        // the first dispatch stands (a reworked case comes back here)
        if c.dispatched.is_none() {
            c.dispatched = at(t);
            c.handle_due = world.due(cat, t, cat.stage_limits.handle_hours);
            // 延期: the department applies for more time, and is granted it
            if let Some(deadline) = c.deadline.map(Moment::secs).filter(|&d| t < d) {
                if sc.steps.extension > 0.0
                    && uniform(seed, rep, c.key, P_EXTEND, 0) < sc.steps.extension
                {
                    c.extended = true;
                    c.deadline = at(world.calendar.add_hours(
                        cat.time_basis,
                        deadline,
                        sc.steps.extension_hours,
                    ));
                }
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
            let own = c
                .grid
                .map(|g| &world.beat_crews[g.ix()])
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
        let pick = pick.map(|(k, _)| CrewId::new(k as usize)).or_else(|| {
            let from = sc.dispatch.preempt_at_priority?;
            if c_priority < from {
                return None;
            }
            let mut best: Option<(f64, usize)> = None;
            for k in 0..n_crews {
                let Some(v) = crew.case[k] else {
                    continue;
                };
                if world.crews[k].department != q {
                    continue;
                }
                let vc = &cases[v.ix()];
                if vc.priority >= c_priority || vc.handled.is_some() {
                    continue;
                }
                let p = if vc.arrived.is_some() {
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
            let k = CrewId::new(k);
            // Take the crew off its case: that case waits again.
            let v = crew.case[k.ix()].expect("a crew on a case");
            let vc = &mut cases[v.ix()];
            add_busy(
                world,
                &mut crew.busy_secs,
                &mut crew.shift_busy,
                k,
                vc.assigned.expect("a case with a crew was assigned").secs(),
                t,
            );
            if vc.arrived.is_some() {
                crew.at[k.ix()] = Place {
                    at: vc.at,
                    node: vc.node,
                    xy: vc.xy,
                };
            }
            vc.gen = vc.gen.wrapping_add(1);
            vc.eta = None;
            vc.preempted = vc.preempted.saturating_add(1);
            vc.assigned = None;
            vc.arrived = None;
            vc.crew = None;
            vc.queued_at = t;
            queues[q].insert(QueueKey {
                neg_priority: -(vc.priority as i8),
                since: t,
                case: v,
            });
            crew.busy[k.ix()] = false;
            Some(k)
        });
        let c = &mut cases[id.ix()];
        match pick {
            Some(k) => {
                crew.free[q][slot(world, k)].remove(k.get());
                crew.busy[k.ix()] = true;
                set_off(
                    world,
                    (seed, rep),
                    cases,
                    queue,
                    requests,
                    contention,
                    &mut crew.case,
                    (id, k, crew.at[k.ix()], t),
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

    pub(super) fn on_arrive(&mut self, t: i64, id: CaseId, gen: u8) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run { queue, cases, .. } = self;
        let key = cases[id.ix()].key;
        let c = &mut cases[id.ix()];
        if c.gen != gen {
            return; // the crew was taken off this case on its way
        }
        c.arrived = at(t);
        if c.first_arrived.is_none() {
            c.first_arrived = at(t);
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

    pub(super) fn on_handled(&mut self, t: i64, id: CaseId, gen: u8) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue, cases, crew, ..
        } = self;
        let sc = &world.scenario;
        let key = cases[id.ix()].key;
        let c = &mut cases[id.ix()];
        if c.gen != gen {
            return; // taken off while handling
        }
        c.handled = at(t);
        let k = c.crew.expect("a case handled has a crew");
        crew.case[k.ix()] = None;
        crew.busy[k.ix()] = false;
        add_busy(
            world,
            &mut crew.busy_secs,
            &mut crew.shift_busy,
            k,
            c.assigned.expect("a case handled was assigned").secs(),
            t,
        );
        crew.at[k.ix()] = Place {
            at: c.at,
            node: c.node,
            xy: c.xy,
        };
        let pass = c.rework as u64;
        let fb = t + draw(
            &sc.steps.feedback,
            uniform(seed, rep, key, P_FEEDBACK, pass),
        );
        c.feedback = at(fb);
        let cat = &world.categories[c.category as usize];
        c.check_due = world.due(cat, fb, cat.stage_limits.check_hours);
        if worker_of(world, c).is_some() {
            queue.schedule(fb, Ev::Feedback(id));
        } else {
            let ck = fb + draw(&sc.steps.check, uniform(seed, rep, key, P_CHECK, pass));
            queue.schedule(ck, Ev::Checked(id));
        }
        queue.schedule(t, Ev::CrewFree(k));
    }

    pub(super) fn on_checked(&mut self, t: i64, id: CaseId) {
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
        let c = &mut cases[id.ix()];
        let key = c.key;
        let r = world.categories[c.category as usize].check_failure;
        // the pass's own draw: rework k is decided by draw k
        if r > 0.0 && uniform(seed, rep, key, P_CHECK_FAIL, c.rework as u64) < r {
            // not solved (返工): back to the department's queue, deadline kept;
            // a compliance that did not hold sends a crew after all
            c.rework = c.rework.saturating_add(1);
            let was_compliance = c.complied.take().is_some();
            c.gen = c.gen.wrapping_add(1);
            c.crew = None;
            c.eta = None;
            c.assigned = None;
            c.arrived = None;
            c.handled = None;
            c.feedback = None;
            // (the next pass's check is due anew: no check time until it is made)
            c.checked = None;
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
            c.checked = at(t);
            c.closed = at(t);
            // a compliance that did not last: the problem comes back
            if let (Some(r), true) = (&sc.recurrence, c.complied.is_some()) {
                if uniform(seed, rep, key, P_RECUR, 0) < r.after_compliance {
                    let again = Arrival {
                        t: t + draw(&r.delay, uniform(seed, rep, key, P_RECUR, 1)),
                        category: c.category as usize,
                        grid: c.grid,
                        at: c.at,
                        priority: c.arrival_priority,
                        key: incident_key(RECURRENCE_STREAM ^ key, 0),
                    };
                    let (intake, source, call_at) =
                        discover(world, (seed, rep), again.key, again.t, again.grid);
                    let mut n = new_case(world, &again, source);
                    n.recurrence_of = Some(id);
                    let new_id = CaseId::new(cases.len());
                    if let Some(list) = again
                        .grid
                        .and_then(|g| workers.grid_pending.get_mut(g.ix()))
                    {
                        list.push(new_id); // (seen by a worker once it occurs)
                    }
                    (*recurrences) += 1;
                    if intake < world.end {
                        queue.schedule(intake, Ev::Intake(new_id));
                    }
                    if let Some(call_at) = call_at.filter(|&t| t < world.end) {
                        n.call_at = at(call_at);
                        queue.schedule(call_at, Ev::Call(new_id));
                    }
                    cases.push(n);
                }
            }
        }
    }

    pub(super) fn on_deadline(&mut self, t: i64, id: CaseId) {
        let Ctx { world, .. } = self.ctx;
        let Run {
            queue,
            cases,
            queues,
            ..
        } = self;
        let c = &mut cases[id.ix()];
        if let Some(later) = c.deadline.map(Moment::secs).filter(|&d| d > t) {
            // extended since: falls due later (outside the category's lane,
            // whose times only grow)
            queue.schedule(later, Ev::Deadline(id));
            return;
        }
        if c.closed.is_none() {
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

    pub(super) fn on_feedback(&mut self, _t: i64, id: CaseId) {
        let Ctx { world, .. } = self.ctx;
        let Run { cases, workers, .. } = self;
        if let Some(w) = worker_of(world, &cases[id.ix()]) {
            workers.tasks[w].push_back((id, true));
        }
    }
}
