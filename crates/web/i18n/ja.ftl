# kakehashi ウェブ画面：日本語の文字列（Project Fluent）

skip-to-content = 本文へ移動
nav-label = メインナビゲーション
nav-home = プロジェクト
nav-network = ネットワーク
nav-feasibility = 実施可能性調査
nav-amr = 薬剤耐性
nav-surveillance = サーベイランス
nav-steward = 施設データ管理
language = 言語
sign-out = ログアウト
role-researcher = 研究者
role-steward = 施設データ管理者
role-admin = ネットワーク管理者

login-title = ログイン
login-intro = ネットワーク事務局から発行されたアカウントでログインしてください。患者単位のデータが病院の外に出ることはなく、表示されるのは集計結果のみです。
login-username = ユーザー名
login-password = パスワード
login-submit = ログイン
notice-signed-out = ログアウトしました。

home-title = あなたのプロジェクト
home-intro = 問い合わせはすべてプロジェクト単位で実行されます。各施設は自施設のポリシーが許可するプロジェクトにのみ回答します。
home-projects = プロジェクト
home-no-projects = まだどのプロジェクトにも所属していません。ネットワーク事務局に追加を依頼してください。

col-project = プロジェクト
col-description = 説明
col-sites = 施設数
col-site = 施設
col-country = 国
col-status = 状態
col-last-seen = 最終接続
col-snapshot = データ時点
col-policy = 開示ポリシー
col-criterion = 条件
col-code = コード
col-context = 種類
col-add = 追加
col-patients = 患者数
col-disclosure = 開示方法
col-when = 日時
col-criteria = 条件
col-organism = 菌種
col-antimicrobial = 抗菌薬
col-class = 分類
col-event = イベント
col-detail = 詳細
col-hash = ハッシュ

country-DE = ドイツ
country-JP = 日本
status-online = 接続中
status-offline = 未接続
status-answered = 回答済み
status-refused = 拒否
status-late = 遅延
status-pending = 待機中
never = なし
no-snapshot = データ未登録
none = なし
no-data = まだデータがありません。
any = 指定なし
choose = 選択してください
apply = 適用
download-csv = データをダウンロード（CSV）
back-home = プロジェクト一覧に戻る

network-title = ネットワーク
network-intro = ネットワークに参加する病院と、エージェントの接続状況、データの更新時点、各施設が開示する内容です。
network-caption = { $n }施設
policy-min-count = { $n }未満の件数は開示しない
policy-rounding = 件数を{ $step }単位に丸める
policy-noise = ラプラスノイズ（1問い合わせあたり ε = { $epsilon }）
policy-no-noise = ノイズなし
policy-budget = プロジェクトごとのプライバシー予算：ε = { $budget }

feas-title = 実施可能性調査
feas-intro = 各施設でこの条件を満たす患者は何人いるか。条件を組み合わせるか CCDL クエリを貼り付けてください。各施設が自施設の患者を数え、開示ポリシーに従って件数を返します。
feas-search-legend = 条件を追加
feas-search = 診断・検査・検体を検索
feas-search-hint = 日本語・ドイツ語・英語の名称やコードで検索できます（例：「肺炎」「Pneumonie」「pneumonia」「J18」）。
feas-search-button = 検索
feas-hits = { $n }件が該当
feas-add-label = { $criterion }を追加
feas-filter-hint = 任意：次に追加する条件の値の範囲と期間。
feas-min-value = 値の下限
feas-max-value = 値の上限
feas-unit = 単位（UCUM）
feas-from = 開始日
feas-to = 終了日
feas-patient-legend = 患者
feas-age-min = 年齢の下限（歳）
feas-age-max = 年齢の上限（歳）
feas-sex = 性別
feas-add-patient = 患者条件を追加
sex-female = 女性
sex-male = 男性
sex-other = その他
feas-ccdl = クエリ（CCDL JSON）
feas-ccdl-hint = MII の Clinical Cohort Definition Language で書かれたクエリです。追加した条件がここに表示されます。ドイツの実施可能性ポータルのクエリを貼り付けることもできます。
feas-run = ネットワークに問い合わせる
feas-export = CCDL をダウンロード

result-title = 回答
result-asked = 問い合わせ日時：{ $when }
result-total = 合計
result-chart-title = 施設別の患者数
result-chart-desc = 施設ごとに開示された患者数。開示されなかった施設には棒がありません。
unit-patients = 人
effect-exact = 正確な件数
effect-suppressed = { $n }未満のため非開示
effect-rounded = { $step }単位に丸め
effect-noise = ノイズ付加（ε = { $epsilon }）
total-withheld-min-sites = 回答した施設が少ないため合計は表示されません。
total-withheld-min-total = 合計がネットワークの最小値を下回っています。
history-title = これまでの問い合わせ
history-empty = まだ問い合わせはありません。

context-Diagnose = 診断
context-Laboruntersuchung = 検体検査
context-Bioprobe = 検体（バイオバンク）
context-Medikamentenverabreichung = 投薬
context-Prozedur = 処置
context-Einwilligung = 同意
context-Patient = 患者

amr-title = 薬剤耐性（AMR）
amr-intro = 生の MIC 値から作成したアンチバイオグラムです。各施設で同一のガイドラインとバージョンにより再判定するため、日本とドイツの耐性率を比較できます。
amr-guideline = ガイドライン
amr-map-caption = 菌種と抗菌薬ごとの耐性率。斜線のセルは分離株が30株未満です。
amr-compare-title = 日本とドイツの比較
amr-mdro-title = 多剤耐性菌

surv-title = ARI/SARI サーベイランス
surv-intro = 国別の週ごとの症例数と、Moving Epidemic Method（MEM）による流行閾値および強度レベルです。
surv-definition = 症例定義
level-baseline = 流行閾値未満
level-low = 低強度
level-medium = 中強度
level-high = 高強度
level-very-high = 非常に高い強度

steward-title = 施設データ管理：{ $site }
steward-intro = この施設に届いたものと施設から送られたもの（施設のハッシュチェーン監査ログより）。
steward-chain-ok = 監査チェーンは改ざんされていません。
steward-chain-broken = 監査チェーンが壊れています。記録が変更・削除・並べ替えされました。
steward-policy = 開示ポリシー
steward-projects = 許可されたプロジェクト
steward-audit = 監査ログ
event-task-received = タスク受信
event-result-sent = 結果送信
event-refused = タスク拒否

err-required = この項目を入力してください。
err-number = 「{ $detail }」は数値ではありません。
err-date = 「{ $detail }」は日付（YYYY-MM-DD）ではありません。
err-range-order = 開始日より前にはできません。
err-choice = 「{ $detail }」は選択肢にありません。
err-credentials = ユーザー名またはパスワードが正しくありません。
err-ccdl = クエリが有効な CCDL ではありません：{ $detail }
err-no-criteria = 条件を1つ以上追加するか、クエリを貼り付けてください。

error-title = エラーが発生しました
error-not-found = このページは存在しません。
error-forbidden = あなたの役割ではこの操作はできません。
error-unauthorized = ログインしてください。
error-internal = ハブが要求を完了できませんでした。ネットワーク事務局に通知されました。
surv-week = ISO週
surv-cases = 週あたり症例数
surv-epidemic-threshold = 流行閾値
event-task-created = 施設へタスクを送信
event-answer-received = 施設から回答を受信
event-site-registered = 施設を登録
event-user-created = アカウントを作成
event-project-saved = プロジェクトを保存
event-token-created = APIトークンを作成
