//! Hanyu Pinyin syllables (Q1: 单拼, 双拼, 三拼): whether a name of letters splits into whole
//! syllables, and into how few. Tones are not written in domain names, and ü is written `v`
//! (`lv`, `nve`) as Chinese keyboards and domain investors write it.
//!
//! The lone vowels `a`, `e` and `o` are syllables of the language but are left out here: with
//! them almost any short string of letters would "split" (`aaa` = a+a+a), and no investor
//! calls `aaa` a 三拼.
use std::collections::HashSet;
use std::sync::OnceLock;

/// Every syllable, without tones (the lone vowels left out, see the module's note).
const SYLLABLES: &str = "\
ai an ang ao \
ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu \
ca cai can cang cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu \
chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo \
da dai dan dang dao de dei den deng di dia dian diao die ding diu dong dou du duan dui dun duo \
ei en eng er \
fa fan fang fei fen feng fo fou fu \
ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo \
ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang hui hun huo \
ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun \
ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo \
la lai lan lang lao le lei leng li lia lian liang liao lie lin ling liu lo long lou lu luan \
lun luo lv lve lue \
ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu \
na nai nan nang nao ne nei nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nuo \
nv nve nue \
ou \
pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu \
qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun \
ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo \
sa sai san sang sao se sen seng sha shai shan shang shao she shei shen sheng shi shou shu \
shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo \
ta tai tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo \
wa wai wan wang wei wen weng wo wu \
xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun \
ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun \
za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong \
zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo";

/// The longest syllable (`chuang`, `shuang`, `zhuang`).
const LONGEST: usize = 6;

fn table() -> &'static HashSet<&'static str> {
    static TABLE: OnceLock<HashSet<&'static str>> = OnceLock::new();
    TABLE.get_or_init(|| SYLLABLES.split_whitespace().collect())
}

/// Whether `word` is one syllable.
pub fn is_syllable(word: &str) -> bool {
    table().contains(word)
}

/// The fewest whole syllables `name` (lower-case ASCII letters) splits into, or `None` when
/// it does not split. `xian` is one syllable, not xi+an: the fewest is what 单拼 means.
pub fn syllable_count(name: &str) -> Option<u8> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    // fewest[i]: the fewest syllables that spell name[..i].
    let mut fewest: Vec<Option<u8>> = vec![None; name.len() + 1];
    fewest[0] = Some(0);
    for end in 1..=name.len() {
        fewest[end] = (end.saturating_sub(LONGEST)..end)
            .filter_map(|start| {
                let before = fewest[start]?;
                is_syllable(&name[start..end]).then_some(before.saturating_add(1))
            })
            .min();
    }
    fewest[name.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q1_names_investors_call_shuangpin_split_into_two() {
        assert_eq!(syllable_count("xiaomi"), Some(2)); // xiao + mi
        assert_eq!(syllable_count("zhongguo"), Some(2)); // zhong + guo
        assert_eq!(syllable_count("taobao"), Some(2));
        assert_eq!(syllable_count("baidu"), Some(2));
    }

    #[test]
    fn q1_the_fewest_split_is_the_count() {
        assert_eq!(syllable_count("xian"), Some(1), "xian, not xi+an");
        assert_eq!(syllable_count("zhuang"), Some(1));
        assert_eq!(syllable_count("aiai"), Some(2));
        assert_eq!(syllable_count("woaini"), Some(3)); // wo + ai + ni
        assert_eq!(syllable_count("lvyou"), Some(2)); // ü written v
    }

    #[test]
    fn q1_strings_that_are_not_pinyin() {
        assert_eq!(syllable_count("aaa"), None, "lone vowels do not count");
        assert_eq!(syllable_count("abc"), None);
        assert_eq!(syllable_count("xyz"), None);
        assert_eq!(syllable_count("qv"), None);
        assert_eq!(syllable_count(""), None);
        assert_eq!(syllable_count("xiao1"), None, "digits are not pinyin");
        assert_eq!(syllable_count("Xiao"), None, "names are lower-case");
    }

    #[test]
    fn q1_the_table_holds_the_initials_and_finals_it_should() {
        for s in [
            "zhi", "chi", "shi", "ri", "zi", "ci", "si", "er", "ang", "nve", "jiong",
        ] {
            assert!(is_syllable(s), "{s}");
        }
        for s in ["a", "e", "o", "ng", "hm", "zhv", "jv"] {
            assert!(!is_syllable(s), "{s}");
        }
        assert_eq!(
            table().len(),
            SYLLABLES.split_whitespace().count(),
            "no duplicates"
        );
    }
}
