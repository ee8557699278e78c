"""The checkers of lesson 4, who is winning."""

import numbers

import pandas as pd

from hello_winners.view import tables
from hello_winners.workshop.exercises import figures
from hello_winners.workshop.exercises.checks import samples
from hello_winners.workshop.exercises.checks.cases import chart_axes, check, titled


_BOARD = [("m1", "merchant", "Mia", 12), ("m2", "merchant", "Max", 9), ("m3", "merchant", "Mo", 9),
          ("m4", "merchant", "Meg", 9), ("m5", "merchant", "Mae", 2), ("f1", "photographer", "Finn", 30)]


def _score_item(user, role, name, score):
    return {"userId": {"S": user}, "role": {"S": role}, "name": {"S": name}, "score": {"N": str(score)}}


def top_of_role(function):
    """Check top_of_role(dynamodb, scores_table, role, limit, start_key=None) -> (rows, next_key)."""
    check("top_of_role", _top_of_role, function)


def _top_of_role(c, function):
    query_hint = ("dynamodb.query(TableName=scores_table, IndexName='ScoresByRole', KeyConditionExpression='#role = "
                  ":role', ...): the index keeps each role's scores in order, so the top is the first items it reads")
    with samples.mock_tables() as (db, names):
        table = names[tables.SCORES]
        for row in _BOARD:
            db.put_item(TableName=table, Item=_score_item(*row))
        with c.on("the first page of the merchants, limit 2", query_hint, key="query-hint"):
            with samples.calls(db) as made:
                rows, next_key = function(db, table, "merchant", 2)
            operations = [name for name, _ in made]
            c.expect(operations == ["Query"], f"it called {', '.join(operations) or 'nothing'}, expected one Query",
                     "one Query, never a Scan: a Scan reads every item of the table, whatever the role; " + query_hint,
                     key="one-query-never-scan-scan")
            params = made[0][1]
            c.expect(params.get("IndexName") == tables.SCORES_INDEX, f"it queried {params.get('IndexName') or 'the table'}",
                     "IndexName='ScoresByRole': the table's own key is userId, the index's is role and score",
                     key="indexname-scoresbyrole-tables-own-key")
            c.expect(params.get("Limit") == 2, f"its Limit is {params.get('Limit')}, expected 2",
                     "Limit=limit: DynamoDB then reads (and bills) only that many items",
                     key="limit-limit-dynamodb-reads-bills")
            c.expect(isinstance(rows, list) and all(isinstance(r, dict) for r in rows),
                     f"it returned {rows!r:.100} as the rows", "return (rows, next_key) with rows a list of dicts",
                     key="return-rows-next-key-rows")
            scores = [r.get("score") for r in rows]
            c.expect(all(isinstance(score, numbers.Integral) for score in scores),
                     f"the scores are {scores}, expected [12, 9] (ints)",
                     "score is int(item['score']['N']): DynamoDB sends every number as text",
                     key="score-int-item-score-n")
            c.expect(scores == [12, 9], f"the scores are {scores}, expected [12, 9]",
                     "ScanIndexForward=False reads the index highest score first",
                     key="scanindexforward-false-reads-index-highest")
            c.expect(rows[0].get("userId") == "m1" and rows[0].get("name") == "Mia",
                     f"the first row is {rows[0]}", "each row is {'userId': ..., 'name': ..., 'score': ...}",
                     key="each-row-userid-name-score")
            c.expect(next_key is not None, "it returned no next_key though more merchants follow",
                     "return response.get('LastEvaluatedKey'): DynamoDB stopped at the Limit and says where",
                     key="return-response-get-lastevaluatedkey-dynamodb")
        with c.on("reading the rest page by page (three merchants tie at 9)",
                  "pass ExclusiveStartKey=start_key to the query when it is given",
                  key="pass-exclusivestartkey-start-key-query"):
            seen, pages = [r["userId"] for r in rows], 1
            while next_key is not None and pages < 10:
                rows, next_key = function(db, table, "merchant", 2, next_key)
                seen += [r["userId"] for r in rows]
                pages += 1
            c.expect(sorted(seen) == ["m1", "m2", "m3", "m4", "m5"] and len(seen) == 5,
                     f"the pages gave {seen}, expected each of the 5 merchants once",
                     "pass ExclusiveStartKey=start_key when given, and return LastEvaluatedKey as next_key: "
                     "the next page starts right after the last item read, even inside a tie",
                     key="pass-exclusivestartkey-start-key-when")
        with c.on("a role with no scores yet"):
            got = function(db, table, "customer", 5)
            c.expect(isinstance(got, tuple) and got == ([], None), f"it returned {got!r}, expected ([], None)",
                     "return ([], None): a role nobody has scored in yet has an empty board, and no next page",
                     key="return-none")
    return "one Query a page, highest first, ties paged through"


def scores_frame(function):
    """Check scores_frame(items) -> DataFrame of userId, role, name, score with the right dtypes."""
    check("scores_frame", _scores_frame, function)


_SCORE_DTYPES = {"userId": "string", "role": "string", "name": "string", "score": "int64"}


def _scores_frame(c, function):
    items = [_score_item(*row) for row in reversed(_BOARD)]
    for case, given in (("the items of a Scan", items), ("no items at all (nobody sold yet)", [])):
        with c.on(case, "build rows of plain values (item['score']['N'] is text), then pd.DataFrame(rows, columns=[...])",
                  key="build-rows-plain-values-item"):
            got = function(given)
            c.expect(isinstance(got, pd.DataFrame), f"it returned a {type(got).__name__}, not a DataFrame",
                     "return pd.DataFrame(rows, columns=['userId', 'role', 'name', 'score'])",
                     key="return-pd-dataframe-rows-columns")
            c.expect(list(got.columns) == list(_SCORE_DTYPES), f"its columns are {list(got.columns)}",
                     "columns userId, role, name, score, in that order: pd.DataFrame(rows, columns=[...]) "
                     "keeps them even when there are no rows", key="columns-userid-role-name-score")
            dtypes = {column: str(dtype) for column, dtype in got.dtypes.items()}
            c.expect(dtypes == _SCORE_DTYPES, f"its dtypes are {dtypes}, expected {_SCORE_DTYPES}", _dtype_hint(dtypes),
                     key="score-int64-text-string-dtype")
            expected = sorted(_BOARD, key=lambda r: (r[1], -r[3], r[0])) if given else []
            rows = [tuple(row) for row in got.astype(object).itertuples(index=False)]
            c.expect(rows == expected, f"its rows are {rows!r:.160}",
                     "sort_values(['role', 'score', 'userId'], ascending=[True, False, True]): highest first, ties by userId",
                     key="sort-values-role-score-userid")
            c.expect(list(got.index) == list(range(len(got))), f"its index is {list(got.index)}",
                     "sort with ignore_index=True, so the rows are numbered 0..n-1", key="sort-ignore-index-true-so")
    return "string and int64 columns, highest first, empty too"


def _dtype_hint(dtypes):
    """What to change, from the columns that differ: each wrong dtype has its own cause."""
    hints = []
    if dtypes.get("score") != "int64":
        hints.append(f"score is {dtypes.get('score')}: DynamoDB sends numbers as text, and text sorts '9' above '12': "
                     "make it int64")
    text = [column for column in ("userId", "role", "name") if dtypes.get(column) != "string"]
    if text:
        found = sorted({dtypes.get(column) for column in text}, key=str)
        why = {"str": "pandas 3's default for text", "object": "pandas 2's default for text"}
        said = ", ".join(f"'{dtype}' ({why[dtype]})" if dtype in why else f"'{dtype}'" for dtype in found)
        hints.append(f"{', '.join(text)} {'is' if len(text) == 1 else 'are'} {said}, and the lesson asks for pandas' "
                     "'string' dtype, the same on pandas 2 and 3 and the one analysis.read_scores gives")
    wanted = ", ".join(f"'{column}': '{dtype}'" for column, dtype in _SCORE_DTYPES.items() if dtypes.get(column) != dtype)
    return "; ".join(hints) + f": .astype({{{wanted}}})"


def leaderboard_chart(function):
    """Check leaderboard_chart(scores, role, top=10) -> a Figure with sorted, labelled bars and the leader marked."""
    check("leaderboard_chart", _leaderboard_chart, function)


def _board_frame(rows):
    frame = pd.DataFrame(rows, columns=list(_SCORE_DTYPES)).astype(_SCORE_DTYPES)
    return frame.sample(frac=1, random_state=7, ignore_index=True)  # in no particular order, as a Scan returns


def _leaderboard_chart(c, function):
    untied = _BOARD[:2] + [("m6", "merchant", "Mel", 5)] + _BOARD[4:]
    cases = [("four merchants and a photographer", untied, 10, ["Mia", "Max", "Mel", "Mae"], 1),
             ("three merchants tied at the top, top=3", [(u, r, n, 9) for u, r, n, _ in _BOARD[:4]] + _BOARD[4:],
              3, ["Mia", "Max", "Mo"], 3)]
    for case, rows, top, names, leaders in cases:
        with c.on(case, "build it on a Figure: fig = Figure(); ax = fig.subplots(); ax.barh(...); return fig",
                  key="build-figure-fig-figure-ax"):
            fig = function(_board_frame(rows), "merchant", top=top)
            ax = chart_axes(fig)
            drawn = figures.bars(ax)
            c.expect(drawn, "the chart has no bars", "draw them with ax.barh(names, scores) (or ax.bar)",
                     key="draw-them-ax-barh-names")
            values = [int(bar.value) for bar in drawn]
            c.expect(len(drawn) == len(names), f"it has {len(drawn)} bars, expected {len(names)}",
                     "only this role's contributors, the top ones: scores[scores['role'] == role], then .head(top)",
                     key="only-roles-contributors-top-ones")
            c.expect(values == sorted(values, reverse=True), f"the bars read {values} from the first to the last",
                     "sort highest first; with barh the first bar is drawn at the bottom: ax.invert_yaxis()",
                     key="sort-highest-first-barh-first")
            labels = [bar.label for bar in drawn]
            score_of = {name: score for _, role, name, score in rows if role == "merchant"}
            c.expect(labels == names or not set(labels) <= set(score_of) or values != [score_of[n] for n in names],
                     f"the bars are labelled {labels}, expected {names}: the same scores, tied ones in another order",
                     "break ties by userId: sort_values(['score', 'userId'], ascending=[False, True]), then .head(top)",
                     key="break-ties-by-userid")
            c.expect(labels == names, f"the bars are labelled {labels}, expected {names}",
                     "label each bar with the contributor's name (the name column), ties by userId",
                     key="label-each-bar-contributors-name")
            colours = [bar.colour for bar in drawn]
            c.expect(len(set(colours[:leaders])) == 1 and colours[0] not in colours[leaders:],
                     "the leader is not marked" if leaders == 1 else "not every leader is marked alike",
                     "colour every bar at the top score apart from the rest: color=[...] with one colour per bar",
                     key="colour-every-bar-at-top")
            titled(c, ax, "what the bars measure, and who they are")
    return "sorted bars, names, leaders marked, titled"
