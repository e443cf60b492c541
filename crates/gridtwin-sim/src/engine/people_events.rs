//! The people around the cases: callers and the call centre, the centre's operators,
//! grid workers on their routes, crews coming free and shifts changing.

use super::*;

impl Run<'_> {
    pub(super) fn on_call(&mut self, t: i64, id: CaseId) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            staff,
            ..
        } = self;
        let sc = &world.scenario;
        let cc = sc
            .discovery
            .call_centre
            .as_ref()
            .expect("calls need a call centre");
        let c = &mut cases[id.ix()];
        if staff.agents_free > 0 {
            staff.agents_free -= 1;
            c.call_answered = at(t);
            let d = draw(&cc.handle, uniform(seed, rep, c.key, P_CALL, 0));
            queue.schedule(t + d, Ev::CallDone(id));
        } else {
            staff.callers.push_back(id);
            let d = draw(&cc.patience, uniform(seed, rep, c.key, P_PATIENCE, 0));
            queue.schedule(t + d, Ev::HangUp(id));
        }
    }

    pub(super) fn on_hang_up(&mut self, t: i64, id: CaseId) {
        let Run { cases, .. } = self;
        let c = &mut cases[id.ix()];
        if c.call_answered.is_none() && c.call_hung_up.is_none() {
            c.call_hung_up = at(t); // the report is lost
        }
    }

    pub(super) fn on_call_done(&mut self, t: i64, id: CaseId) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            staff,
            ..
        } = self;
        let sc = &world.scenario;
        let cc = sc
            .discovery
            .call_centre
            .as_ref()
            .expect("calls need a call centre");
        let c = &mut cases[id.ix()];
        if c.intake.is_none() {
            // registered from the call (a patrol may have been first: then the
            // call was a duplicate report, merged)
            queue.schedule(t, Ev::IntakeFrom(id, IntakeSource::Hotline));
        }
        staff.agents_free += 1;
        while let Some(next) = staff.callers.pop_front() {
            let n = &mut cases[next.ix()];
            if n.call_hung_up.is_some() {
                continue;
            }
            staff.agents_free -= 1;
            n.call_answered = at(t);
            let d = draw(&cc.handle, uniform(seed, rep, n.key, P_CALL, 0));
            queue.schedule(t + d, Ev::CallDone(next));
            break;
        }
    }

    pub(super) fn on_station_done(&mut self, t: i64, st: Station, id: CaseId) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            workers,
            staff,
            ..
        } = self;
        let i = st as usize;
        let c = &mut cases[id.ix()];
        match st {
            // registered: verified on the spot by the grid's worker (a hotline
            // or camera report), else now
            Station::Registration => match worker_of(world, c) {
                Some(w) if c.source != IntakeSource::Patrol => {
                    workers.tasks[w].push_back((id, false))
                }
                _ => queue.schedule(t, Ev::Verified(id)),
            },
            Station::Dispatching => {
                let when = t + world.hand_over(c, seed, rep);
                queue.schedule(when, Ev::Dispatch(id));
            }
        }
        staff.station_free[i] += 1;
        if let Some(next) = staff.station_queue[i].pop_front() {
            staff.station_free[i] -= 1;
            let d = station_time(world, (seed, rep), st, &cases[next.ix()]);
            queue.schedule(t + d, Ev::StationDone(st, next));
        }
    }

    pub(super) fn on_worker_step(&mut self, t: i64, w: u32) {
        let Ctx { world, seed, rep } = self.ctx;
        let Run {
            queue,
            cases,
            workers,
            ..
        } = self;
        let sc = &world.scenario;
        let walking = sc.discovery.grid_workers.as_ref();
        let wi = w as usize;
        let gw = walking.expect("grid workers");
        match workers.doing[wi] {
            Doing::Off => {}
            Doing::Visit(g) => {
                workers.patrol_visits.push((g.get(), t));
                // the grid's incidents that have occurred, looked at as the
                // worker leaves it
                let gi = g.ix();
                while let Some(&id) = workers.grid_cases[gi].get(workers.grid_next[gi]) {
                    if cases[id.ix()].occurred > t {
                        break;
                    }
                    workers.grid_pending[gi].push(id);
                    workers.grid_next[gi] += 1;
                }
                let p = sc.discovery.patrol_detect_probability;
                workers.grid_pending[gi].retain(|&id| {
                    let c = &mut cases[id.ix()];
                    if c.intake.is_some() {
                        return false;
                    }
                    if c.occurred > t {
                        return true;
                    }
                    if uniform(seed, rep, c.key, P_PATROL, c.looked as u64) < p {
                        queue.schedule(t, Ev::IntakeFrom(id, IntakeSource::Patrol));
                        false
                    } else {
                        c.looked = c.looked.saturating_add(1);
                        true
                    }
                });
                workers.pos[wi] = (workers.pos[wi] + 1) % world.workers[wi].0.len();
            }
            Doing::Task(id, false) => queue.schedule(t, Ev::Verified(id)),
            Doing::Task(id, true) => queue.schedule(t, Ev::Checked(id)),
        }
        // next: off until the shift starts; else a waiting task, else the
        // next grid of the route
        if !worker_on_shift(world, wi, t) {
            workers.doing[wi] = Doing::Off;
            let start = world.next_time_of_day(world.workers[wi].1 .0, t);
            queue.schedule(start, Ev::WorkerStep(w));
        } else if let Some((id, check)) = workers.tasks[wi].pop_front() {
            workers.doing[wi] = Doing::Task(id, check);
            let c = &cases[id.ix()];
            let (d, draw_ix) = if check {
                (&gw.check_visit, 1 + 2 * c.rework as u64)
            } else {
                (&gw.verify_visit, 0)
            };
            let dur = draw(d, uniform(seed, rep, c.key, P_VISIT, draw_ix));
            queue.schedule(t + dur, Ev::WorkerStep(w));
        } else {
            let g = world.workers[wi].0[workers.pos[wi]];
            workers.doing[wi] = Doing::Visit(g);
            let dur = (gw.minutes_per_grid * 60.0).round() as i64;
            queue.schedule(t + dur.max(1), Ev::WorkerStep(w));
        }
    }

    pub(super) fn on_crew_free(&mut self, t: i64, k: CrewId) {
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
        let d = world.crews[k.ix()].department;
        // Off shift, the crew stays idle until its shift group starts again.
        if crew.busy[k.ix()]
            || crew.free[d][slot(world, k)].contains(k.get())
            || !world.on_shift(k.ix(), t)
        {
            return;
        }
        // The most urgent case waiting in its department's queue.
        if let Some(key) = queues[d].pop_first() {
            crew.busy[k.ix()] = true;
            set_off(
                world,
                (seed, rep),
                cases,
                queue,
                requests,
                contention,
                &mut crew.case,
                (key.case, k, crew.at[k.ix()], t),
            );
        } else {
            crew.free[d][slot(world, k)].insert(k.get(), crew.at[k.ix()].xy);
        }
    }

    pub(super) fn on_shift_start(&mut self, t: i64, g: u32) {
        let Ctx { world, .. } = self.ctx;
        let Run { queue, crew, .. } = self;
        let ((a, _), members) = &world.shift_groups[g as usize];
        for &k in members {
            if !crew.busy[k as usize] {
                queue.schedule(t, Ev::CrewFree(CrewId::new(k as usize)));
            }
        }
        queue.schedule(world.next_time_of_day(*a, t), Ev::ShiftStart(g));
    }

    pub(super) fn on_shift_end(&mut self, t: i64, g: u32) {
        let Ctx { world, .. } = self.ctx;
        let Run { queue, crew, .. } = self;
        let ((_, b), members) = &world.shift_groups[g as usize];
        for &k in members {
            let k = CrewId::new(k as usize);
            crew.free[world.crews[k.ix()].department][slot(world, k)].remove(k.get());
        }
        queue.schedule(world.next_time_of_day(*b, t), Ev::ShiftEnd(g));
    }
}
