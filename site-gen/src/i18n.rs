//! The site's own words in Kazakh, Russian and English: navigation, labels, and the name,
//! unit and formula of every published indicator (D14d).

pub struct Words {
    pub skip: &'static str,
    pub contents: &'static str,
    pub language: &'static str,
    pub updated: &'static str,
    pub history: &'static str,
    pub feed: &'static str,
    pub data: &'static str,
    pub month: &'static str,
    pub no_data: &'static str,
    pub suppressed: &'static str,
    pub formula: &'static str,
    pub native: &'static str,
    pub component: &'static str,
    pub purpose: &'static str,
    pub version: &'static str,
    pub certification: &'static str,
    pub systems_caption: &'static str,
    pub org_caption: &'static str,
    pub chart_desc: &'static str,
    pub table: &'static str,
}

pub fn words(lang: &str) -> &'static Words {
    match lang {
        "ru" => &RU,
        "en" => &EN,
        _ => &KK,
    }
}

const KK: Words = Words {
    skip: "Негізгі мазмұнға өту",
    contents: "Мазмұны",
    language: "Тіл",
    updated: "Соңғы жаңартылған күні",
    history: "Өзгерістер тарихы",
    feed: "Жаңартулар арнасы (Atom)",
    data: "Деректер",
    month: "Ай",
    no_data: "дерек жоқ",
    suppressed: "жарияланбайды (10 шоттан аз)",
    formula: "Есептеу формуласы",
    native: "Қазақша",
    component: "Құрамдас бөлік",
    purpose: "Мақсаты",
    version: "Нұсқасы",
    certification: "Сертификаттау",
    systems_caption: "Пайдаланылатын технологиялар мен ақпараттық жүйелер",
    org_caption: "Ұйымдық құрылым",
    chart_desc: "Айлар бойынша мәндердің бағаналы диаграммасы; деректер төмендегі кестеде.",
    table: "Кесте (көлденең жылжытуға болады)",
};

const RU: Words = Words {
    skip: "Перейти к основному содержанию",
    contents: "Содержание",
    language: "Язык",
    updated: "Дата последнего обновления",
    history: "История изменений",
    feed: "Лента обновлений (Atom)",
    data: "Данные",
    month: "Месяц",
    no_data: "нет данных",
    suppressed: "не публикуется (менее 10 счетов)",
    formula: "Формула расчёта",
    native: "Русский",
    component: "Компонент",
    purpose: "Назначение",
    version: "Версия",
    certification: "Сертификация",
    systems_caption: "Используемые технологии и информационные системы",
    org_caption: "Организационная структура",
    chart_desc: "Столбчатая диаграмма значений по месяцам; данные в таблице ниже.",
    table: "Таблица (прокручивается по горизонтали)",
};

const EN: Words = Words {
    skip: "Skip to main content",
    contents: "Contents",
    language: "Language",
    updated: "Last updated",
    history: "Change history",
    feed: "Updates feed (Atom)",
    data: "Data",
    month: "Month",
    no_data: "no data",
    suppressed: "withheld (fewer than 10 accounts)",
    formula: "Formula",
    native: "English",
    component: "Component",
    purpose: "Purpose",
    version: "Version",
    certification: "Certification",
    systems_caption: "Technologies and information systems in use",
    org_caption: "Organisational structure",
    chart_desc: "Bar chart of the monthly values; the data is in the table below.",
    table: "Table (scrolls sideways)",
};

/// (key, unit, [name kk, ru, en], [formula kk, ru, en]) of each published indicator.
pub type Indicator = (
    &'static str,
    &'static str,
    [&'static str; 3],
    [&'static str; 3],
);

pub const INDICATORS: &[Indicator] = &[
    (
        "payments_count",
        "",
        ["Төлемдер саны", "Количество платежей", "Number of payments"],
        [
            "Айдың ішінде серіктес банктер арқылы түскен төлемдер саны (қайтарылғандар шегеріледі).",
            "Число платежей, поступивших через банки-партнёры за месяц (без отменённых).",
            "Payments received through the partner banks during the month (reversed ones excluded).",
        ],
    ),
    (
        "payments_sum",
        "₸",
        ["Төлемдер сомасы", "Сумма платежей", "Amount paid"],
        [
            "Айдың ішінде транзиттік шоттарға түскен сома, қайтарылғандарды шегергенде.",
            "Сумма, поступившая на транзитные счета за месяц, за вычетом отмен.",
            "The money received into the transit accounts during the month, less reversals.",
        ],
    ),
    (
        "collection_rate_pct",
        "%",
        [
            "Төлемдердің жиналу деңгейі",
            "Уровень собираемости",
            "Collection rate",
        ],
        [
            "Кезеңнен кейінгі айда түскен төлемдер ÷ кезеңге есептелген сома × 100.",
            "Платежи, поступившие в месяце после периода ÷ начислено за период × 100.",
            "Payments received in the month after the period ÷ amount charged for the period × 100.",
        ],
    ),
    (
        "accounts_served",
        "",
        [
            "Қызмет көрсетілетін шоттар",
            "Обслуживаемые лицевые счета",
            "Accounts served",
        ],
        [
            "Кезең үшін бірыңғай төлем құжаты шығарылған дербес шоттар саны.",
            "Число лицевых счетов, по которым за период выставлен единый платёжный документ.",
            "Personal accounts for which a unified payment document was issued for the period.",
        ],
    ),
    (
        "cabinet_users",
        "",
        [
            "Жеке кабинет пайдаланушылары",
            "Пользователи личного кабинета",
            "Personal cabinet users",
        ],
        [
            "Айдың соңына тіркелген тұтынушылар саны.",
            "Число потребителей, зарегистрированных на конец месяца.",
            "Consumers registered by the end of the month.",
        ],
    ),
    (
        "electronic_upd_share_pct",
        "%",
        [
            "Электронды құжаттар үлесі",
            "Доля электронных документов",
            "Share of electronic documents",
        ],
        [
            "Жеке кабинетке байланыстырылған шоттар ÷ қызмет көрсетілетін шоттар × 100.",
            "Счета, привязанные к личному кабинету ÷ обслуживаемые счета × 100.",
            "Accounts linked to a personal cabinet ÷ accounts served × 100.",
        ],
    ),
    (
        "complaints_received",
        "",
        [
            "Түскен шағымдар мен өтініштер",
            "Поступившие жалобы и обращения",
            "Complaints and applications received",
        ],
        [
            "Айдың ішінде тіркелген шағымдар мен өтініштер саны.",
            "Число жалоб и обращений, зарегистрированных за месяц.",
            "Complaints and applications registered during the month.",
        ],
    ),
    (
        "complaints_answered_on_time_pct",
        "%",
        [
            "Мерзімінде жауап берілген шағымдар",
            "Жалобы, отвеченные в срок",
            "Complaints answered on time",
        ],
        [
            "15 жұмыс күні ішінде (ұзартылса — 20) жауап берілгендер ÷ мерзімі айда аяқталғандар × 100.",
            "Отвеченные в течение 15 рабочих дней (при продлении — 20) ÷ жалобы со сроком в месяце × 100.",
            "Answered within 15 working days (20 if extended) ÷ complaints whose deadline fell in the month × 100.",
        ],
    ),
    (
        "median_hours_payment_to_payout",
        "h",
        [
            "Төлемнен жеткізушіге аударуға дейін",
            "От платежа до перечисления поставщику",
            "From payment to payout",
        ],
        [
            "Айдағы төлемдердің транзиттік шоттан жеткізушіге аударылғанға дейінгі сағаттарының медианасы.",
            "Медиана часов от поступления платежа за месяц до его перечисления поставщику.",
            "The median of the hours from each payment of the month to its payout to the provider.",
        ],
    ),
    (
        "discrepancies_registered_on_time_pct",
        "%",
        [
            "Мерзімінде тіркелген сәйкессіздіктер",
            "Расхождения, зарегистрированные в срок",
            "Discrepancies registered on time",
        ],
        [
            "Анықталғаннан кейін 3 жұмыс күні ішінде тіркелгендер ÷ айда тіркелгендер × 100.",
            "Зарегистрированные в течение 3 рабочих дней после выявления ÷ зарегистрированные за месяц × 100.",
            "Registered within 3 working days of detection ÷ registered during the month × 100.",
        ],
    ),
];

pub fn lang_index(lang: &str) -> usize {
    match lang {
        "ru" => 1,
        "en" => 2,
        _ => 0,
    }
}

pub fn native_name(lang: &str) -> &'static str {
    words(lang).native
}
