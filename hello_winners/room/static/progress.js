// The instructor's progress page: draw each message of the progress feed (server-sent events): the grid
// of participants by exercise, who is stuck, how many passed, the room's pace. Names are set as text.
"use strict";
(() => {
  const status = document.getElementById("status");
  const MARKS = { passed: "✓", failing: "✗", started: "…" };

  function cell(tag, text, className) {
    const element = document.createElement(tag);
    element.textContent = text;
    if (className) element.className = className;
    return element;
  }

  function grid(message) {
    const table = document.getElementById("grid");
    const names = message.exercises.map(exercise => exercise.name);
    const head = cell("tr", "");
    head.append(cell("th", "participant"), ...message.exercises.map(exercise => {
      const th = cell("th", exercise.name);
      th.title = `lesson ${exercise.lesson}`;
      return th;
    }));
    table.tHead.replaceChildren(head);
    table.tBodies[0].replaceChildren(...message.participants.map(participant => {
      const row = cell("tr", "");
      row.dataset.name = participant.name;
      row.append(cell("th", participant.name), ...names.map(name => {
        const state = participant.cells[name] || "not-started";
        const td = cell("td", MARKS[state] || "·", `state ${state}`);
        td.dataset.exercise = name;
        td.dataset.state = state;
        td.title = `${participant.name}, ${name}: ${state.replace("-", " ")}`;
        return td;
      }));
      return row;
    }));
    const foot = cell("tr", "");
    foot.append(cell("th", "passed"), ...message.exercises.map(exercise => {
      const td = cell("td", String(exercise.passed));
      td.dataset.exercise = exercise.name;
      return td;
    }));
    table.tFoot.replaceChildren(foot);
  }

  function stuck(rows) {
    const body = document.querySelector("#stuck tbody");
    body.replaceChildren(...rows.map(row => {
      const tr = cell("tr", "");
      tr.dataset.name = row.name;
      tr.dataset.exercise = row.exercise;
      const again = row.repeats > 1 ? ` (${row.repeats} times in a row)` : "";
      tr.append(cell("td", row.name), cell("td", row.exercise), cell("td", `${row.minutes} min`),
                cell("td", (row.hint || "the check crashed or gave no hint") + again));
      return tr;
    }));
    if (!rows.length) {
      const tr = cell("tr", "");
      tr.append(cell("td", "Nobody is stuck.", "meta"));
      body.append(tr);
    }
  }

  function pace(message) {
    const p = message.pace;
    const element = document.getElementById("pace");
    if (!p.planned_lesson) { element.textContent = "No check has reported yet."; return; }
    const hours = Math.floor(p.elapsed / 60), minutes = p.elapsed % 60;
    const since = hours ? `${hours} h ${minutes} min` : `${minutes} min`;
    let text = `${since} since the first check: the plan has the room in lesson ${p.planned_lesson.lesson} (${p.planned_lesson.title}).`;
    if (p.median_exercise) {
      const how = p.ahead === 0 ? "on time" : p.ahead > 0 ? `${p.ahead} min ahead of the plan` : `${-p.ahead} min behind the plan`;
      text += ` Half the room has passed ${p.median_exercise}: ${how}.`;
    } else {
      text += " Half the room has passed no exercise yet.";
    }
    element.textContent = text;
    element.dataset.ahead = String(p.ahead);
  }

  function draw(message) {
    grid(message);
    stuck(message.stuck);
    pace(message);
    status.textContent = `${message.participants.length} sharing their progress.`;
    document.body.dataset.stuck = String(message.stuck.length);
    document.body.dataset.participants = String(message.participants.length);
  }

  const source = new EventSource("/instructor/progress/feed");
  source.addEventListener("progress", event => draw(JSON.parse(event.data)));
  source.onerror = () => { status.textContent = "Reconnecting to the room server…"; };
})();
