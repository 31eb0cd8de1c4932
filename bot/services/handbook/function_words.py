"""Vietnamese function words: question words, particles, pronouns and the like.

They say how something is asked, not what about, so they must not make a question look
specific or on-topic ("giá vàng hôm nay bao nhiêu" shares only these with the handbook).
"""

from __future__ import annotations

from bot.services.handbook.normalize import canonical_tone, fold

# Accented forms, matched when the question has diacritics.
ACCENTED = frozenset(
    canonical_tone(word)
    for word in """
    à ạ ai anh ấy bà bác bạn bao bây bị cả các cái cần chị chỗ cho chú chứ chưa có cô còn
    của cũng đã đang đâu đấy để đó được em gì giờ hả hay hỏi hoặc hôm khi không kia là lắm
    làm luôn mà mấy mình một muốn nào này nay nên nếu nha nhá nhé nhỉ nhiêu như những nhưng
    nữa ơi ông phải rồi sao sẽ ta tại thế thì tôi vậy và vẫn về vì với
    kiểu sắp tới lúc hồi vừa thôi cứ chắc rất đều
    """.split()
)

# Folded forms, matched when the question has none: only those that fold no likely content
# word into them, so "the" (thế/thẻ), "chi" (chị/chi bộ), "dang" (đang/đảng), "bi" (bị/bí
# thư), "toi" (tôi/tội), "ban" (bạn/Ban), "vi" (vì/vi phạm), "nha" (nhá/nhà), "trong"
# (trong/nghiêm trọng), "thoi" (thôi/thời), "luc" (lúc/lực lượng), "cu" (cứ/cư trú) stay out.
FOLDED = frozenset(
    """
    a ai anh ay ba bao bay ca cac cai cho chua co con cua cung da dau day do duoc em gi gio
    ha hay hoac hom khi khong kia la lam luon may minh mot nao nay neu nhe nhi nhieu nhu nhung
    nua oi ong phai sao se ta thi vay va ve voi
    kieu sap vua chac rat deu
    """.split()
)


def is_function_word(token: str) -> bool:
    """True for a normalised query token that is a function word."""
    if fold(token) == token:
        return token in FOLDED
    return token in ACCENTED
