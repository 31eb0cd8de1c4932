"""The search's scope signal and ranking over the shipped handbook: State affairs that share
words with Party rules are refused, Party questions using the same words are answered, and
an entry's own title always finds it."""

from __future__ import annotations

import pytest

from bot.services.handbook import Decision, HandbookIndex, load_index
from bot.services.handbook.normalize import fold, normalize
from bot.services.handbook.scope import OUTSIDE_DOMAINS, ScopeSignal


@pytest.fixture(scope="module")
def shipped() -> HandbookIndex:
    return load_index()


@pytest.mark.parametrize(
    ("query", "domain"),
    [
        ("ky luat cong chuc co may hinh thuc", "công chức, viên chức"),
        ("viên chức bị cảnh cáo thì bao lâu được nâng lương", "công chức, viên chức"),
        ("doan phi cong doan dong bao nhieu", "công đoàn"),
        ("cách tính lương hưu", "lương hưu, chế độ hưu trí"),
        ("thu tuc ve huu som", "lương hưu, chế độ hưu trí"),
        ("đăng ký kết hôn cần giấy tờ gì", "hộ tịch, hôn nhân và gia đình"),
        ("dang ky ket hon can giay to gi", "hộ tịch, hôn nhân và gia đình"),
        ("mức đóng bhyt hộ gia đình", "bảo hiểm xã hội, bảo hiểm y tế"),
        ("quyết toán thuế thu nhập cá nhân ở đâu", "thuế"),
        ("điều kiện kết nạp đoàn viên thanh niên", "Đoàn Thanh niên"),
        ("lương cơ sở năm nay bao nhiêu", "tiền lương, phụ cấp"),
        ("mất cccd làm lại ở đâu", "cư trú, giấy tờ tùy thân"),
        ("đăng ký tạm trú cần gì", "cư trú, giấy tờ tùy thân"),
        ("vượt đèn đỏ xe máy phạt bao nhiêu", "giao thông"),
        ("nghỉ thai sản được hưởng mấy tháng lương", "bảo hiểm xã hội, bảo hiểm y tế"),
        ("tiêu chí hộ nghèo giai đoạn mới là gì", "chính sách xã hội"),
        ("chế độ cho người có công với cách mạng", "chính sách xã hội"),
        ("trợ cấp người cao tuổi bao nhiêu một tháng", "chính sách xã hội"),
        ("tien tuat cho gia dinh liet si", "bảo hiểm xã hội, bảo hiểm y tế"),
        ("thi thang hang giao vien can chung chi gi", "công chức, viên chức"),
        ("hồ sơ nghỉ hưu gồm những giấy tờ gì", "lương hưu, chế độ hưu trí"),
        ("được bằng khen thì có được thưởng tiền không", "thi đua, khen thưởng"),
        ("thue dat nop o dau", "thuế"),
        ("quy trinh bo nhiem lai truong phong", "công chức, viên chức"),
        ("quyen loi nguoi lao dong khi nghi viec", "lao động, việc làm"),
        ("thủ tục hành chính cấp xã sau sáp nhập", "pháp luật và chính quyền"),
        ("hop to dan pho thu quy gi", "pháp luật và chính quyền"),
        ("cong an xa co quyen thu giu xe khong", "pháp luật và chính quyền"),
        ("trợ cấp hưu trí xã hội cho người 75 tuổi", "lương hưu, chế độ hưu trí"),
        ("di xuat khau lao dong han quoc can dieu kien gi", "lao động, việc làm"),
        # "cb" is "cán bộ" before the civil service, not "chi bộ" (an anchor).
        ("cb công chức cấp huyện được nâng lương khi nào", "công chức, viên chức"),
        ("mất thẻ atm thì khóa thẻ thế nào", "ngân hàng"),
        ("lãi suất gửi tiết kiệm bây giờ bao nhiêu", "ngân hàng"),
        ("hop phu huynh cuoi nam hoc vao thang may", "pháp luật và chính quyền"),
    ],
)
def test_state_affairs_sharing_words_are_refused_with_their_domain(
    shipped: HandbookIndex, query: str, domain: str
) -> None:
    result = shipped.search(query)
    assert result.decision is Decision.NOT_FOUND
    assert result.entry is None
    assert result.outside == domain
    assert result.suggestions == ()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The same everyday words, asked about the Party: the scope signal must not refuse
        # whole words.
        ("đảng viên hưu trí sinh hoạt ở đâu", {"dang-vien-nghi-huu"}),
        ("đảng phí của đảng viên nghỉ hưu", {"dang-vien-nghi-huu", "dang-phi-muc-dong"}),
        ("lương hưu 6 triệu thì đảng phí bao nhiêu", {"dang-phi-muc-dong", "dang-vien-nghi-huu"}),
        ("cong chuc la dang vien bi co quan ky luat thi chi bo co duoc bao khong", None),
        ("đoàn viên thanh niên muốn vào đảng thì ai giới thiệu", {"doan-thanh-nien-gioi-thieu"}),
        ("công đoàn có được giới thiệu người vào Đảng không", {"doan-thanh-nien-gioi-thieu"}),
        ("đảng viên bị phạt nồng độ cồn có bị kỷ luật đảng không", None),
        ("đảng viên chuyển hộ khẩu sang tỉnh khác thì chuyển sinh hoạt đảng thế nào", None),
        ("đảng viên đi xuất khẩu lao động thì sinh hoạt đảng thế nào", None),
        ("chi bộ mở tài khoản ngân hàng để thu đảng phí được không", {"quan-ly-dang-phi"}),
        ("đóng đảng phí qua thẻ atm được không", {"dang-phi-cach-dong"}),
        ("cb hop xet ket nap dang vien moi the nao", {"quy-trinh-xet-ket-nap"}),
    ],
)
def test_party_questions_with_the_same_words_are_answered(
    shipped: HandbookIndex, query: str, expected: set[str] | None
) -> None:
    result = shipped.search(query)
    assert result.answered, (query, result.outside, result.score)
    assert result.outside is None
    if expected is not None:
        assert result.entry is not None and result.entry.id in expected


def test_no_title_or_sample_question_of_the_handbook_is_out_of_scope(
    shipped: HandbookIndex,
) -> None:
    # New entries are covered automatically: the vocabulary must never veto the content.
    vetoed = [
        (entry.id, text)
        for entry in shipped.entries
        for text in (entry.title, *entry.questions)
        for typed in (text, fold(text))
        if shipped.search(typed).outside is not None
    ]
    assert vetoed == []


def test_every_title_finds_its_entry(shipped: HandbookIndex) -> None:
    missed = []
    for entry in shipped.entries:
        for typed in (
            entry.title,
            entry.title.lower(),
            fold(entry.title),
            fold(entry.title).upper(),
        ):
            result = shipped.search(typed)
            if not (result.answered and result.entry == entry):
                missed.append((entry.id, typed, result.entry.id if result.entry else None))
    assert missed == []


def test_every_sample_question_finds_its_entry(shipped: HandbookIndex) -> None:
    # Editors write sample questions the way members ask: said back, with or without
    # diacritics, each must answer with its own entry (new entries are covered too).
    missed = [
        (entry.id, typed, result.entry.id if result.entry else None)
        for entry in shipped.entries
        for question in entry.questions
        for typed in (question, fold(question))
        if not ((result := shipped.search(typed)).answered and result.entry == entry)
    ]
    assert missed == []


@pytest.mark.parametrize(
    "typed", ["quyền của đảng viên", "quyen cua dang vien", "Đảng viên có những quyền gì?"]
)
def test_the_members_rights_beat_the_probationers_which_is_offered(
    shipped: HandbookIndex, typed: str
) -> None:
    result = shipped.search(typed)
    assert result.decision is Decision.ANSWER_WITH_SUGGESTIONS
    assert result.entry is not None and result.entry.id == "quyen-dang-vien"
    assert [entry.id for entry in result.suggestions][:1] == ["quyen-dang-vien-du-bi"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Chi bộ sinh hoạt thường kỳ bao lâu một lần?", "sinh-hoat-chi-bo-thuong-ky"),
        ("Quy trình phát triển đảng viên gồm các bước nào?", "quy-trinh-xet-ket-nap"),
        ("thông tin cá nhân của tôi có được bảo mật không", "bot-quyen-rieng-tu"),
        # The entry the question would have got before is still there, as "did you mean".
        ("Sinh hoạt chuyên đề bao lâu một lần?", "sinh-hoat-chuyen-de"),
        ("Thay đổi thông tin cá nhân thì cập nhật hồ sơ đảng viên thế nào?", "ho-so-dang-vien"),
    ],
)
def test_close_entries_go_to_the_one_the_question_names(
    shipped: HandbookIndex, query: str, expected: str
) -> None:
    result = shipped.search(query)
    assert result.answered
    assert result.entry is not None and result.entry.id == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The same words in another order set no title apart: "Kỷ luật đối với đảng viên
        # dự bị" has "viên dự", "Thời kỳ dự bị của đảng viên mới" says it the other way.
        ("đảng viên dự bị mấy tháng", "dang-vien-du-bi"),
        # A title word the question never says costs: "quyền lợi" alone is not a question
        # about "Kỷ luật oan, sai được xin lỗi và phục hồi quyền lợi".
        ("Là đảng viên thì mình được hưởng những quyền lợi gì trong tổ chức?", "quyen-dang-vien"),
        # A title word said is not enough when the entry covers far less of the question.
        ("co quyet dinh ket nap roi bao lau thi to chuc le", "le-ket-nap"),
    ],
)
def test_a_close_candidate_is_chosen_by_what_its_title_says_that_the_question_says(
    shipped: HandbookIndex, query: str, expected: str
) -> None:
    result = shipped.search(query)
    assert result.answered
    assert result.entry is not None and result.entry.id == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("đảng viên chơi lô đề, cá độ bóng đá có sao không", "nhung-dieu-dang-vien-khong-duoc-lam"),
        ("đảng viên mở tiệm sửa xe ở nhà được không", "dang-vien-kinh-te-tu-nhan"),
        ("bot có lưu số căn cước của tôi không", "bot-quyen-rieng-tu"),
        ("đảng viên chính thức có những quyền hạn gì", "quyen-dang-vien"),
        ("bon phan cua nguoi dang vien la gi", "nhiem-vu-dang-vien"),
    ],
)
def test_the_members_everyday_words_answer_with_the_handbooks(
    shipped: HandbookIndex, query: str, expected: str
) -> None:
    result = shipped.search(query)
    assert result.answered
    assert result.entry is not None and result.entry.id == expected


def test_the_monthly_meeting_offers_the_themed_one(shipped: HandbookIndex) -> None:
    result = shipped.search("Chi bộ sinh hoạt thường kỳ bao lâu một lần?")
    assert [entry.id for entry in result.suggestions] == ["sinh-hoat-chuyen-de"]


def test_did_you_mean_is_about_the_question_not_a_stray_topic(shipped: HandbookIndex) -> None:
    # "Cách đóng và thời hạn đóng đảng phí" has "đảng viên dự bị" in a sample question and
    # "3 tháng" in its keywords, yet is not what this asks.
    result = shipped.search("đảng viên dự bị mấy tháng")
    assert result.entry is not None and result.entry.id == "dang-vien-du-bi"
    assert result.suggestions
    assert all(entry.category != "Đảng phí" for entry in result.suggestions)
    assert all("dự bị" in entry.title for entry in result.suggestions)


def test_related_topics_are_worked_out_when_the_index_is_built(shipped: HandbookIndex) -> None:
    index = load_index()
    before = {entry.id: index.related(entry) for entry in index.entries}

    def no_scoring(*_: object) -> dict[int, float]:
        raise AssertionError("related topics scored at answer time")

    index._score = no_scoring  # type: ignore[method-assign]
    assert {entry.id: index.related(entry) for entry in index.entries} == before
    fee = index.get("dang-phi-muc-dong")
    assert fee is not None
    assert [entry.category for entry in index.related(fee)] == ["Đảng phí"] * 3


def _segments(text: str) -> list[list[str]]:
    return normalize(text)


def test_a_bare_dang_is_the_party_only_beside_words_the_handbook_writes_with_it() -> None:
    signal = ScopeSignal.from_segments(
        _segments("Đảng viên vào Đảng. Kỷ luật đảng. Đang hưởng trợ cấp. Đăng ký kết hôn.")
    )
    assert signal.assess(_segments("dang vien dong bhyt")).anchored
    assert signal.assess(_segments("vao dang can gi")).anchored
    assert signal.assess(_segments("co bi ky luat dang khong")).anchored
    assert not signal.assess(_segments("dang ky ket hon o dau")).anchored
    assert not signal.assess(_segments("dang huong luong huu")).anchored
    assert signal.assess(_segments("đảng")).anchored
    assert signal.assess(_segments("chi bo hop may lan")).anchored


def test_a_bare_dang_after_a_person_or_a_time_word_is_doing_not_the_party() -> None:
    # The handbook writes "tôi đang" nowhere, so the pair alone would read "tôi đảng".
    signal = ScopeSignal.from_segments(_segments("Tôi đảng viên. Hiện đảng bộ. Đảng viên."))
    assert not signal.assess(_segments("toi dang huong luong huu")).anchored
    assert not signal.assess(_segments("hien dang cong tac o xa")).anchored
    assert signal.assess(_segments("toi dang vien nghi huu")).anchored
    assert signal.assess(_segments("hien dang bo co bao nhieu nguoi")).anchored


def test_a_state_question_said_while_doing_something_is_still_refused(
    shipped: HandbookIndex,
) -> None:
    for typed in ("toi dang huong luong huu co duoc lam them khong", "hien dang la cong chuc"):
        result = shipped.search(typed)
        assert not result.answered and result.outside is not None, typed
    assert shipped.search("minh dang la dang vien du bi thi co duoc bieu quyet khong").answered


def test_an_outside_word_vetoes_only_without_an_anchor() -> None:
    signal = ScopeSignal.from_segments(_segments("Đảng viên"))
    assert signal.assess(_segments("cách tính lương hưu")).refused
    assert not signal.assess(_segments("đảng viên hưởng lương hưu")).refused
    assert not signal.assess(_segments("sinh hoạt ở đâu")).refused
    # A one-syllable term typed without diacritics may be another word: "thue" is "thuê".
    assert signal.assess(_segments("thuế đất")).outside == "thuế"
    assert signal.assess(_segments("lam thue")).outside is None
    assert signal.assess(_segments("nop thue o dau")).outside == "thuế"
    # The longest phrase names the domain: a helmet is traffic, not insurance.
    assert signal.assess(_segments("khong doi mu bao hiem")).outside == "giao thông"


def test_every_outside_phrase_is_a_phrase() -> None:
    phrases = [phrase for domain in OUTSIDE_DOMAINS.values() for phrase in domain]
    assert len(phrases) == len(set(phrases))
    assert all(normalize(phrase) for phrase in phrases)
