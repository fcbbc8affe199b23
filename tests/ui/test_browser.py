"""The pages in a real headless Chromium against `portway ui` over a registry on S3 (moto):
list, open a version, read the embedded report, approve with a reason, see the history
update; a missing reason is refused in the page; two browsers approving at once."""

from __future__ import annotations

import threading

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from portway.devtools.chromium import chromium
from portway.registry import APPROVED, PENDING

from .conftest import REVIEWER


def wait_for(driver, element_id: str, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(expected_conditions.presence_of_element_located((By.ID, element_id)))


def table_rows(driver, table_id: str) -> list[list[str]]:
    rows = driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")
    return [[cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td, th")] for row in rows]


def test_groups_then_group_with_chart_filter_and_corrupt_entry(browser, ui_server):
    browser.get(ui_server + "/")
    groups = table_rows(browser, "groups")
    assert groups[0][0] == "churn" and groups[0][3] == "churn:1", groups
    assert "1 corrupt" in groups[0][5]
    browser.find_element(By.LINK_TEXT, "churn").click()
    wait_for(browser, "versions")
    versions = {row[1].split()[0]: row for row in table_rows(browser, "versions")}
    assert set(versions) == {str(v) for v in range(1, 10)}
    assert versions["1"][2] == APPROVED and "champion" in versions["1"][1]
    assert versions["1"][6].startswith("lead at ")
    assert versions["6"][2] == "corrupt" and "is corrupt" in versions["6"][3]
    chart = browser.find_element(By.ID, "metric-chart")
    assert len(chart.find_elements(By.CSS_SELECTOR, "g.point")) == 8  # every readable version
    assert len(chart.find_elements(By.CSS_SELECTOR, "g.point.champion")) == 1

    Select(browser.find_element(By.ID, "status")).select_by_value(APPROVED)
    browser.find_element(By.CSS_SELECTOR, "form.filter button").click()
    WebDriverWait(browser, 20).until(lambda d: "status=Approved" in d.current_url)
    statuses = {row[2] for row in table_rows(browser, "versions")}
    assert statuses == {APPROVED}


def test_open_a_version_read_its_report_approve_with_a_reason(browser, ui_server, registry):
    browser.get(ui_server + "/groups/churn/versions/3")
    assert browser.find_element(By.ID, "status").text == PENDING
    metrics = dict(row for row in table_rows(browser, "metrics"))
    assert set(metrics) >= {"auc", "accuracy", "log_loss"}
    assert metrics["auc"] == f"{registry.get('churn', 3)['metrics']['auc']:.4f}"

    frame = browser.find_element(By.ID, "report")
    assert frame.get_attribute("sandbox") == ""
    browser.switch_to.frame(frame)
    try:
        assert wait_for(browser, "report-title").text == "Evaluation report: churn"
        # The report's own script did not run: the frame is sandboxed and its CSP has no script source.
        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-script-ran") is None
    finally:
        browser.switch_to.default_content()
    assert browser.title == "churn:3"

    browser.find_element(By.ID, "reason").send_keys("beats churn:1 on AUC; report reviewed")
    browser.find_element(By.ID, "approve").click()
    outcome = wait_for(browser, "outcome")
    assert outcome.text.startswith(f"Recorded: {PENDING} -> {APPROVED} by {REVIEWER} at ")
    assert browser.find_element(By.ID, "status").text == APPROVED
    assert table_rows(browser, "history")[-1][1:] == [PENDING, APPROVED, REVIEWER, "beats churn:1 on AUC; report reviewed"]
    record = registry.get("churn", 3)
    assert record["approval_status"] == APPROVED and record["history"][-1]["by"] == REVIEWER
    assert [e["sequence"] for e in registry.events("churn") if e["version"] == 3] == [1]


def test_approving_without_a_reason_is_refused_in_the_page(browser, ui_server, registry):
    page = ui_server + "/groups/churn/versions/5"
    browser.get(page)
    reason = browser.find_element(By.ID, "reason")
    assert reason.get_attribute("required") == "true"
    browser.find_element(By.ID, "approve").click()
    # The browser refused to submit: same page, the field reports why, nothing was decided.
    assert browser.current_url == page
    assert reason.get_property("validationMessage")
    assert registry.get("churn", 5)["approval_status"] == PENDING

    # Blanks satisfy `required` but not the server: refused there, with the rule.
    reason.send_keys("   ")
    browser.find_element(By.ID, "approve").click()
    outcome = wait_for(browser, "outcome")
    assert "A reason is required" in outcome.text
    assert registry.get("churn", 5)["approval_status"] == PENDING
    assert len(registry.get("churn", 5)["history"]) == 1


def test_two_browsers_approving_at_once_one_wins_the_other_is_told_who(browser, ui_server, registry):
    page = ui_server + "/groups/churn/versions/4"
    with chromium() as second:
        drivers = [browser, second]
        for i, driver in enumerate(drivers):
            driver.get(page)
            driver.find_element(By.ID, "reason").send_keys(f"reviewer {i} says ship it")
        start = threading.Barrier(2)
        outcomes = [None, None]

        def approve(i):
            start.wait()
            drivers[i].find_element(By.ID, "approve").click()
            outcomes[i] = wait_for(drivers[i], "outcome").text

        threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    record = registry.get("churn", 4)
    winner = record["history"][-1]
    assert [h["status"] for h in record["history"]] == [PENDING, APPROVED]
    won = [o for o in outcomes if o and o.startswith("Recorded:")]
    lost = [o for o in outcomes if o and not o.startswith("Recorded:")]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert f"by {REVIEWER} at {winner['at']}" in won[0]
    # The loser hears who decided and when, whether it lost on the read or on the conditional write.
    assert f"churn:4 is already Approved (by {REVIEWER} at {winner['at']}: '{winner['reason']}')" in lost[0]
    assert len([e for e in registry.events("churn") if e["version"] == 4]) == 1


def test_compare_selected_versions(browser, ui_server):
    browser.get(ui_server + "/groups/churn")
    for version in (1, 9):
        browser.find_element(By.CSS_SELECTOR, f"input[value='churn:{version}']").click()
    browser.find_element(By.XPATH, "//button[text()='Compare selected']").click()
    wait_for(browser, "compare")
    assert "Better on the gate metric (auc): churn:9" in browser.find_element(By.ID, "better").text
    rows = {row[0]: row[1:] for row in table_rows(browser, "compare")}
    assert rows["auc"][1].endswith("(+0.0160)")  # 9 * 0.002 - 1 * 0.002
    assert rows["data hash"][0] == rows["data hash"][1]
    assert table_rows(browser, "changed-parameters") == [["max_depth", "6", "4"]]
