// The projector: draw each message of the room's feed (server-sent events). Every name is set as text,
// never as markup, whatever it holds.
"use strict";
(() => {
  const status = document.getElementById("status");

  function board(element, entries) {
    const list = element.querySelector("ol");
    const rows = (entries || []).slice(0, 10);
    const best = rows.length ? rows[0].score : null;
    list.replaceChildren(...rows.map((entry, index) => {
      const row = document.createElement("li");
      row.className = "row" + (entry.score === best ? " leader" : "");
      row.dataset.userId = entry.userId;
      const rank = document.createElement("span");
      const earlier = rows.findIndex(other => other.score === entry.score);
      rank.className = "rank"; rank.textContent = String(earlier + 1);
      const name = document.createElement("span");
      name.className = "name"; name.textContent = entry.name; name.title = entry.name;
      const score = document.createElement("span");
      score.className = "score"; score.textContent = String(entry.score);
      row.append(rank, name, score);
      return row;
    }));
    if (!rows.length) {
      const empty = document.createElement("li");
      empty.className = "empty"; empty.textContent = "Nobody has sold anything yet.";
      list.append(empty);
    }
  }

  function side(id, boards, summary) {
    const element = document.getElementById(id);
    element.querySelector(".summary").textContent = summary || "";
    for (const role of ["merchant", "photographer"]) {
      board(element.querySelector(`.board[data-role="${role}"]`), boards ? boards[role] : []);
    }
  }

  function draw(message) {
    for (const [key, value] of Object.entries(message.counts)) {
      const cell = document.querySelector(`[data-count="${key}"]`);
      if (cell) cell.textContent = String(value);
    }
    document.getElementById("joining").textContent = message.joining_open ? "" : "Joining is closed.";
    side("consumer", message.consumer.boards, message.consumer.error || message.consumer.summary);
    side("reference", message.reference.boards, message.reference.summary);
    const pump = message.pump;
    const waiting = pump.waiting ? ` · ${pump.waiting} events not on the stream yet` + (pump.error ? ` (${pump.error})` : "") : "";
    const verdict = message.agree === null ? "Waiting for the winner API…"
      : message.agree ? "The consumer agrees with the room log." : "The consumer does not agree with the room log (yet).";
    status.textContent = `${verdict} ${message.log} events in the room log${waiting}.`;
    status.className = message.agree === null ? "meta" : message.agree ? "meta agree" : "meta differ";
    document.body.dataset.log = String(message.log);
  }

  const source = new EventSource("/projector/feed");
  source.addEventListener("room", event => draw(JSON.parse(event.data)));
  source.onerror = () => { status.textContent = "Reconnecting to the room server…"; status.className = "meta differ"; };
})();
